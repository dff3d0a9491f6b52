-- sipsess-lua host script with a syntax error on purpose (host_spec.lua
-- checks that the host exits 1 with the parser's message).
local app = { ua = { listen = "udp:127.0.0.1:0" } }
function app.main(ua)
  if then
end
return app
