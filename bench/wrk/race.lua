-- POST /api/race. With UNCACHED=1 every request asks for a new learning rate (a cache miss).
local body_for = function(lr)
  return '{"surface": {"name": "rosenbrock"}, "steps": 500, "racers": [' ..
    '{"optimizer": "adam", "lr": ' .. lr .. '}, {"optimizer": "momentum", "lr": 0.001}]}'
end
local uncached = os.getenv("UNCACHED") == "1"
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body_for(0.05)

request = function()
  if uncached then
    counter = counter + 1
    local lr = string.format("%.9f", 0.01 + math.random() * 0.09 + counter * 1e-9)
    return wrk.format(nil, nil, nil, body_for(lr))
  end
  return wrk.format()
end
-- COOKIE: a session cookie's header value (the classroom zones of nginx, bench/stack.py).
if os.getenv("COOKIE") then
  wrk.headers["Cookie"] = os.getenv("COOKIE")
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
