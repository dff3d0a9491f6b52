-- sipsess-lua host script that returns no app table: it drives a UA pair
-- of its own on a memnet and the host exits 0 after it.
local sipsess = require "sipsess"
local net = sipsess.Memnet()
local b = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true, delegate = {
  on_invite = function(_, _, r) assert(r:accept("v=0\r\n", "application/sdp")) end } }
local a = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true }
local s = assert(a:invite("sip:b@127.0.0.1:" .. b:port(0), "v=0\r\n", "application/sdp"))
for _ = 1, 100 do a:advance(5); b:advance(5) end
print("plain " .. sipsess.names.state[s.state] .. " " .. sipsess.sipsess_version())
a:close()
b:close()
