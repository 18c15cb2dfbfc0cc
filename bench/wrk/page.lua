-- GET / with gzip, as a browser asks for the page.
wrk.headers["Accept-Encoding"] = "gzip"
-- COOKIE: a session cookie's header value (the classroom zones of nginx, bench/stack.py).
if os.getenv("COOKIE") then
  wrk.headers["Cookie"] = os.getenv("COOKIE")
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
