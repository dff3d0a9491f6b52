-- The caller side of `make demo`: Alice, Lua call-control logic run by the
-- C host sipsess-lua (which creates the UA from the `ua` table below, uses
-- `delegate` for incoming requests, calls main(), drives the loop until
-- ua:stop(), and exits with finish()'s status).
--
--   build/bin/sipsess-lua examples/demo/caller.lua sip:bob@127.0.0.1:PORT sip:carol@127.0.0.1:PORT
--
-- The call, step by step, each step started by the response to the one
-- before: INVITE with 100rel (reliable 183, PRACK), 200, ACK; INFO;
-- re-INVITE on hold (sendonly) and off hold (sendrecv); MESSAGE; REFER Bob to
-- Carol and follow the NOTIFYs until the sipfrag says 200; BYE.
-- Alice prints every message she sends or receives as a ladder arrow, and
-- each of her callbacks as it fires.

local sip = require "sipsess"

local bob_uri, carol_uri = arg[1], arg[2]
assert(bob_uri and carol_uri, "usage: caller.lua BOB_URI CAROL_URI")

local COL = 34

local function say(s)
  io.stdout:write(s, "\n")
  io.stdout:flush()
end

local function note(text) say("  * alice." .. text) end

local function sdp(direction)
  return "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=demo\r\nc=IN IP4 127.0.0.1\r\n" ..
         "t=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=" .. direction .. "\r\n"
end

local function direction_of(body)
  for _, d in ipairs { "sendonly", "recvonly", "inactive", "sendrecv" } do
    if body:find("a=" .. d, 1, true) then return d end
  end
  return "sendrecv"
end

local function center(text, width)
  text = " " .. text .. " "
  local left = (width - #text) // 2
  if left < 0 then return text end
  return string.rep("-", left) .. text .. string.rep("-", width - #text - left)
end

-- One ladder arrow per message: Alice on the left, Bob at column COL.
local function trace(outgoing, transport, localaddr, remote, data)
  local head, body = data:match("^(.-)\r\n\r\n(.*)$")
  head = head or data
  local first = head:match("^[^\r\n]*")
  local text = first:match("^SIP/2%.0 (.*)") or first:match("^(%S+)")
  if body and body:sub(1, 3) == "v=0" then
    text = text .. " (SDP " .. direction_of(body) .. ")"
  elseif body and body:sub(1, 7) == "SIP/2.0" then
    text = text .. " (sipfrag " .. body:gsub("%s+$", "") .. ")"
  end
  if head:find("\nRSeq:", 1, true) then text = text .. " [100rel]" end
  if outgoing == 1 then
    say("alice |" .. center(text, COL - 8) .. ">| bob")
  else
    say("alice |<" .. center(text, COL - 8) .. "| bob")
  end
end

local the_ua          -- the UA, from main()
local function ua_stop() the_ua:stop() end

local done = {}       -- the steps that completed
local session         -- the call to Bob
local step            -- forward declaration: the sequence below

-- Response handler that runs `next` once the request got its 2xx.
local function then_(name, next)
  return function(s, resp)
    if resp == nil then
      note(name .. ": no response"); ua_stop()
    elseif resp.status >= 200 then
      if resp.status < 300 then
        done[name] = true
        next()
      else
        note(name .. " failed: " .. resp.status); ua_stop()
      end
    end
  end
end

local alice = {}   -- Alice's session delegate
function alice:on_notify(s, req)
  note(("on_notify: transfer progress sipfrag %d%s"):format(req.sipfrag_status,
       req.subscription_terminated and " (subscription over)" or ""))
  req:accept()
  if req.sipfrag_status == 200 and not done.transferred then
    done.transferred = true
    note("transfer done: hanging up on Bob")
    assert(s:bye(nil, then_("bye", function()
      note("BYE answered: the demo call is over")
      ua_stop()
    end)))
  end
end
function alice:on_state_change(s, state)
  note("on_state_change: " .. sip.names.state[state])
end
function alice:on_terminated(s, cause)
  note("on_terminated: " .. sip.names.cause[cause])
end

local steps = {
  function()
    note("call confirmed; sending INFO (DTMF 5)")
    assert(session:info("Signal=5\r\nDuration=160\r\n", "application/dtmf-relay", nil,
                        then_("info", step)))
  end,
  function()
    note("putting Bob on hold (re-INVITE sendonly)")
    assert(session:invite(sdp("sendonly"), "application/sdp", nil, then_("hold", step)))
  end,
  function()
    local answer = session:body(sip.BODY_REMOTE_ANSWER)
    note("Bob answered " .. direction_of(answer) .. "; taking him off hold (sendrecv)")
    assert(session:invite(sdp("sendrecv"), "application/sdp", nil, then_("unhold", step)))
  end,
  function()
    note("sending MESSAGE")
    assert(session:message("Hello Bob, this is Alice (Lua)", "text/plain", nil,
                           then_("message", step)))
  end,
  function()
    note("REFER: transferring Bob to " .. carol_uri)
    assert(session:refer(carol_uri, nil, then_("refer", function() end)))
  end,
}
local next_step = 1
step = function()
  local f = steps[next_step]
  next_step = next_step + 1
  if f then f() end
end

return {
  ua = {
    listen = { "udp:127.0.0.1:0" },
    identity = "sip:alice@127.0.0.1",
    user_agent = "demo-alice (Lua via sipsess-lua)",
    rel100 = "required",
    trace = trace,
  },
  main = function(ua)
    the_ua = ua
    say(("%-" .. COL .. "s%s"):format("alice (Lua, sipsess-lua)", "bob (Python)"))
    note("calling " .. bob_uri .. " with 100rel required")
    session = assert(ua:invite(bob_uri, sdp("sendrecv"), "application/sdp", nil, alice, {
      on_progress = function(_, s, resp)
        note(("on_progress: %d %s"):format(resp.status, resp.reason))
      end,
      on_accept = function(_, s, resp)
        note(("on_accept: %d, session %s"):format(resp.status, sip.names.state[s.state]))
        done.invite = true
        step()
      end,
      on_reject = function(_, s, resp)
        note("call failed: " .. (resp and resp.status or "timeout"))
        ua:stop()
      end,
    }))
  end,
  finish = function(ua)
    local want = { "invite", "info", "hold", "unhold", "message", "refer", "transferred", "bye" }
    local missing = {}
    for _, k in ipairs(want) do
      if not done[k] then missing[#missing + 1] = k end
    end
    if #missing > 0 then
      say("alice: steps not completed: " .. table.concat(missing, ", "))
      return 1
    end
    say("alice: all " .. #want .. " steps completed")
    return 0
  end,
}
