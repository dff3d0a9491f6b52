-- sipsess-lua host script: a UAS whose on_invite raises for the first
-- call (the module reports it on stderr with its traceback and answers
-- 500); the next calls are answered. Stops after N calls were answered
-- and ended.
--
--   sipsess-lua raising.lua N
local sipsess = require "sipsess"
local want = tonumber(arg[1]) or 1
local SDP = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" ..
  "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
local the_ua
local invites, ended = 0, 0

local app = { ua = { listen = "udp:127.0.0.1:0" } }
app.delegate = {
  on_invite = function(_, session, request)
    invites = invites + 1
    if invites == 1 then
      error("deliberate failure in on_invite #" .. invites)
    end
    assert(session:set_delegate({
      on_terminated = function()
        ended = ended + 1
        if ended >= want then the_ua:stop() end
      end,
    }))
    assert(request:accept(SDP, "application/sdp"))
  end,
}
function app.main(ua)
  the_ua = ua
  io.stdout:setvbuf("line")
  print("listening " .. ua:listener(0))
end
function app.finish()
  print(("invites %d ended %d"):format(invites, ended))
  return ended == want and 0 or 1
end
return app
