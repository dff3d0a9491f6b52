-- Lua-scripted UAS of `make bench` (uas_lua), run by the C host:
--   sipsess-lua --print-rusage bench/uas.lua COUNT [T1_MS]
-- Answers every INVITE 200 with an SDP answer, logs nothing per call, stops
-- after COUNT calls ended (the host also stops on SIGTERM), and prints the
-- lines bench/uas_bench.sh reads ("listening ...", "calls attempted ...";
-- the host adds "rusage ...").
local count = tonumber(arg[1]) or error("usage: uas.lua COUNT [T1_MS]")
local t1 = tonumber(arg[2])
local SDP = "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" ..
            "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
local attempted, ok, ended = 0, 0, 0
local the_ua
local CAUSE_OK = { [2] = true, [1] = true } -- REMOTE_BYE, LOCAL_BYE

local call = {}
function call:on_terminated(session, cause)
  ended = ended + 1
  if CAUSE_OK[cause] then ok = ok + 1 end
  if ended >= count then the_ua:stop() end
end

return {
  ua = { listen = { "udp:127.0.0.1:0" }, t1 = t1 },
  delegate = {
    on_invite = function(self, session, request)
      attempted = attempted + 1
      session:set_delegate(call)
      request:accept(SDP, "application/sdp")
    end,
  },
  main = function(ua)
    the_ua = ua
    io.stdout:write("listening ", ua:listener(0), "\n")
    io.stdout:flush()
  end,
  finish = function(ua)
    io.stdout:write(("calls attempted %d ok %d failed %d\n"):format(attempted, ok, attempted - ok))
    io.stdout:flush()
    return 0
  end,
}
