-- sipsess-lua host script: stops at once; finish() returns the status
-- given as argument (a number, or "false").
--   sipsess-lua status.lua STATUS
local app = { ua = { listen = "udp:127.0.0.1:0" } }
function app.main(ua, args) assert(ua:stop()) end
function app.finish()
  if arg[1] == "false" then return false end
  return tonumber(arg[1])
end
return app
