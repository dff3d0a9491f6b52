-- sipsess-lua host script: places one call to URI, sends an INFO once it
-- is confirmed, hangs up when the INFO got its 200 and stops when the
-- session is terminated. Exit 0 only when all of that happened.
--
--   sipsess-lua caller.lua URI
local sipsess = require "sipsess"
local SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" ..
  "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
local steps = {}
local function step(s) steps[#steps + 1] = s; print(s) end

local app = { ua = { listen = "udp:127.0.0.1:0" } }
function app.main(ua, args)
  io.stdout:setvbuf("line")
  local uri = assert(args[1], "usage: caller.lua URI")
  local s = assert(ua:invite(uri, SDP, "application/sdp", nil, {
    on_terminated = function(_, _, cause)
      step("terminated " .. sipsess.names.cause[cause])
      ua:stop()
    end,
  }, {
    on_accept = function(_, session, resp)
      step("accepted " .. resp.status)
      assert(session:info("hello", "text/plain", nil, function(sess, r)
        step("info " .. r.status)
        assert(sess:bye())
      end))
    end,
    on_reject = function(_, _, resp)
      step("rejected " .. (resp and resp.status or "timeout"))
      ua:stop()
    end,
  }))
end
function app.finish(ua)
  local want = "accepted 200,info 200,terminated LocalBye"
  return table.concat(steps, ",") == want and 0 or 1
end
return app
