-- sipsess-lua host script that never stops by itself: ended by --timeout
-- (status 1) or by SIGTERM (finish runs, status 0).
local app = { ua = { listen = "udp:127.0.0.1:0" } }
function app.main(ua)
  io.stdout:setvbuf("line")
  print("running")
end
function app.finish(ua)
  print("finish ran")
  return nil -- keep the host's status
end
return app
