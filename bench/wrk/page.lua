-- GET / with gzip, as a browser asks for the page.
wrk.headers["Accept-Encoding"] = "gzip"

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
