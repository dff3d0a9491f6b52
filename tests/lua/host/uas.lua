-- sipsess-lua host script: a UAS answering every call (180, then 200 with
-- an SDP answer) that stops itself once N calls ended with the caller's
-- BYE. Prints "listening <spec>" once up and "calls <n> ok <k>" at the end.
--
--   sipsess-lua uas.lua N [LISTEN_SPEC]
local sipsess = require "sipsess"
local want = tonumber(arg[1]) or 1
local SDP = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" ..
  "m=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

local the_ua
local ended, ok = 0, 0

local app = {}
app.ua = { listen = { arg[2] or "udp:127.0.0.1:0" }, user_agent = "sipsess-lua-uas" }
app.delegate = {
  on_invite = function(_, session, request)
    assert(session:set_delegate({
      on_terminated = function(_, s, cause)
        ended = ended + 1
        if cause == sipsess.TERM_REMOTE_BYE then ok = ok + 1 end
        if ended >= want then the_ua:stop() end
      end,
    }))
    assert(request:progress(180))
    assert(request:accept(SDP, "application/sdp"))
  end,
}
function app.main(ua, args)
  the_ua = ua
  io.stdout:setvbuf("line")
  print("listening " .. ua:listener(0))
end
function app.finish(ua)
  print(("calls %d ok %d"):format(ended, ok))
  return (ended == want and ok == want) and 0 or 1
end
return app
