-- Run by lifetime_spec.lua under valgrind with stock lua5.4 (not through
-- the host): the paths where the binding could touch freed memory.
local sipsess = require "sipsess"
local SDP = "v=0\r\n"
local net = sipsess.Memnet()
local b
b = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true, delegate = {
  on_invite = function(_, s, r)
    assert(s:set_delegate({ on_info = function(_, sess, req)
      if req.body == "close" then b:close() end
      assert(req:accept())
    end }))
    assert(r:accept(SDP, "application/sdp"))
  end } }
local a = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true }
local function pump() for _ = 1, 40 do a:advance(5); if not b.closed then b:advance(5) end end end
local s = assert(a:invite("sip:b@127.0.0.1:" .. b:port(0), SDP, "application/sdp"))
pump()
assert(s.state == sipsess.SESSION_CONFIRMED)
assert(s:info("close", "text/plain"))
pump()
assert(b.closed == true)
-- Request objects the script drops inside their callback, collected
-- there or by an error handler that runs right after the callback
local f = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true,
  error_handler = function() collectgarbage(); collectgarbage() end, delegate = {
  on_invite = function(_, s, r)
    assert(s:set_delegate({ on_info = function(_, sess, req)
      local body = req.body
      req = nil
      collectgarbage(); collectgarbage()
      if body == "raise" then error({}) end
    end }))
    assert(r:accept(SDP, "application/sdp"))
  end } }
local sf = assert(a:invite("sip:f@127.0.0.1:" .. f:port(0), SDP, "application/sdp"))
for _ = 1, 20 do a:advance(5); f:advance(5) end
assert(sf.state == sipsess.SESSION_CONFIRMED)
local statuses = {}
for _, body in ipairs({ "drop", "raise", "drop", "raise" }) do
  assert(sf:info(body, "text/plain", nil, function(_, r) statuses[#statuses + 1] = r.status end))
  for _ = 1, 10 do a:advance(5); f:advance(5) end
end
assert(table.concat(statuses, ",") == "200,500,200,500", table.concat(statuses, ","))
f:close()

-- a kept request and a session used after their UA is gone
local c = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true }
local kept, ksess
local d = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true, delegate = {
  on_invite = function(_, s2, r) assert(r:keep()); assert(r:progress(180)); kept, ksess = r, s2 end } }
local s2 = assert(c:invite("sip:d@127.0.0.1:" .. d:port(0), SDP, "application/sdp"))
for _ = 1, 20 do c:advance(5); d:advance(5) end
assert(kept and s2.state == sipsess.SESSION_EARLY)
d:close()
assert(kept:accept() == nil and ksess:info("x") == nil and ksess:terminate() == nil)
c:close()
assert(s2:cancel() == nil and s2:ack() == nil and s2:bye() == nil)
d, c = nil, nil
collectgarbage("collect")
-- left open at exit: a UA with a confirmed call and a kept request
local e = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true, delegate = {
  on_invite = function(_, s3, r)
    assert(s3:set_delegate({ on_terminated = function() end }))
    assert(r:keep()); assert(r:accept(SDP, "application/sdp"))
  end } }
local s3 = assert(a:invite("sip:e@127.0.0.1:" .. e:port(0), SDP, "application/sdp", nil,
  { on_terminated = function() end }, function() end))
for _ = 1, 20 do a:advance(5); e:advance(5) end
assert(s3.state == sipsess.SESSION_CONFIRMED)
print("valgrind case done")
