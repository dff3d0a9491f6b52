-- sipsess-lua host script whose main raises: the host reports it with a
-- traceback, closes the UA and exits 1.
local app = { ua = { listen = "udp:127.0.0.1:0" } }
function app.main(ua, args)
  error("main failed on purpose")
end
function app.finish() return 0 end
return app
