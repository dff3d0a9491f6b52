-- uas.lua — an auto-answering user agent that logs every in-dialog request.
--
-- Shows: the UA delegate (new calls), a session delegate per call,
-- keeping a request to answer it later (the INVITE rings RING_MS first),
-- SDP answers that mirror hold (sendonly -> recvonly), INFO/MESSAGE/UPDATE
-- answered 200, and the target side of a blind transfer: a REFER is
-- accepted (202, the library sends "NOTIFY 100 Trying"), kept, and a new
-- call goes to its Refer-To URI; its 180 and final answer reach the
-- referrer through request:notify_refer(); the transferred call is hung
-- up HANGUP_MS after it is answered.
--
--   lua5.4 examples/lua/uas.lua udp:127.0.0.1:5070 [--calls N] [--max-time SEC]
--   build/bin/sipsess-lua examples/lua/uas.lua udp:127.0.0.1:5070 [--calls N] ...
--
-- Under lua5.4 the module is found through SIPSESS_LUA_CPATH (e.g.
-- "build/lua/?.so") or ../../build/lua/?.so relative to this script.
-- Under the C host sipsess-lua (package.preload.sipsess is set) the script
-- returns the host's application table instead: the host makes the UA
-- from `ua`, calls main (which drives the loop itself, since the example
-- needs timers, and stops the UA when done), then finish for the exit
-- status, and closes the UA. Under lua5.4 the end of the script does the
-- same steps itself.
--
-- Exits 0 once N incoming calls ended (and nothing else is in progress),
-- 1 when --max-time (default 30 s) passes first; without --calls it runs
-- for --max-time and exits 0. Port 0 picks a free port: the first line
-- says which. Same program in C (examples/c/uas.c) and Python
-- (examples/python/uas.py).
local hosted = package.preload.sipsess ~= nil -- run by sipsess-lua
local dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
package.cpath = (os.getenv("SIPSESS_LUA_CPATH") or dir .. "/../../build/lua/?.so") .. ";" .. package.cpath
package.path = dir .. "/?.lua;" .. package.path
local sipsess = require "sipsess"
local common = require "common"

local RING_MS = 100   -- 180 Ringing, then 200 OK this much later
local HANGUP_MS = 500 -- a transferred call is hung up this long after its 200

local USAGE = "usage: uas.lua [LISTEN] [--calls N] [--max-time SEC]"
local opt = common.args(arg, "uas.lua", {
  positional = { "listen" },
  defaults = { listen = "udp:127.0.0.1:5070", calls = 0, max_time = 30 },
}, USAGE)

local log = common.logger("uas")
local SDP_TYPE, direction, mirror = common.SDP_TYPE, common.direction, common.mirror

local uas = { next_id = 0, incoming_ended = 0, live = 0, pending = 0 }
local loop -- common.loop(ua), once the UA exists

-- One session: its delegate, and what the example remembers of it.
local Call = {}
Call.__index = Call

local function new_call(session, incoming)
  uas.next_id = uas.next_id + 1
  return setmetatable({ id = uas.next_id, session = session, incoming = incoming,
                        version = 0, notified = 0 }, Call)
end

function Call:log(text) log(("call %d: %s"):format(self.id, text)) end

function Call:sdp(dir_)
  self.version = self.version + 1
  return common.sdp(self.version, dir_, 5000 + 2 * self.id)
end

-- The answer to an offer (mirrored direction), or our offer when the
-- request had none.
function Call:answer_body(offer)
  if offer and offer ~= "" then return self:sdp(mirror(direction(offer))) end
  return self:sdp("sendrecv")
end

-- ---- answering the INVITE ----
function Call:answer()
  local req = self.invite
  self.invite = nil
  if not req or self.session.state == sipsess.SESSION_TERMINATED then return end
  local body = self:answer_body(req.body)
  assert(req:accept(body, SDP_TYPE))
  self:log("answered 200 OK sdp " .. direction(body))
end

-- ---- in-dialog requests ----
function Call:on_ack(session, request)
  local b = request.body
  self:log("ACK" .. (b ~= "" and " sdp " .. direction(b) or ""))
end

function Call:on_ack_timeout(session, request)
  self:log("ACK timeout (the library sends BYE)")
end

function Call:on_invite(session, request)
  local offer = request.body
  local body = self:answer_body(offer)
  assert(request:accept(body, SDP_TYPE))
  self:log(("re-INVITE sdp %s -> 200 answer %s"):format(direction(offer), direction(body)))
end

function Call:on_update(session, request)
  local offer = request.body
  if offer ~= "" then
    local body = self:answer_body(offer)
    assert(request:accept(body, SDP_TYPE))
    self:log(("UPDATE sdp %s -> 200 answer %s"):format(direction(offer), direction(body)))
  else
    assert(request:accept())
    self:log("UPDATE (no sdp) -> 200")
  end
end

function Call:on_info(session, request)
  assert(request:accept())
  self:log(("INFO %s %d bytes -> 200"):format(request.content_type, #request.body))
end

function Call:on_message(session, request)
  assert(request:accept())
  self:log(('MESSAGE %s "%s" -> 200'):format(request.content_type, request.body:sub(1, 40)))
end

function Call:on_notify(session, request)
  assert(request:accept())
  self:log(("NOTIFY %s -> 200"):format(request:header("Event")))
end

function Call:on_prack(session, request) self:log("PRACK (library answers 200)") end
function Call:on_cancel(session, request) self:log("CANCEL (library answers 200, 487 to the INVITE)") end
function Call:on_request(session, request) self:log(request.method_name .. " (library answers 501)") end
function Call:on_bye(session, request) self:log("BYE (library answers 200)") end

-- ---- blind transfer, target side (RFC 3515) ----
function Call:on_refer(session, request)
  local to = request:header("Refer-To")
  if not to then
    request:reject(400, "Missing Refer-To")
    return self:log("REFER without Refer-To -> 400")
  end
  if self.refer then
    request:reject(491)
    return self:log("REFER while another runs -> 491")
  end
  local target = common.refer_target(to)
  assert(request:accept())   -- 202; the library sends NOTIFY "100 Trying"
  assert(request:keep())     -- for notify_refer() after this callback
  self.refer = request
  self:log(("REFER to %s -> 202"):format(target))
  loop:later(0, self.transfer, self, target)
end

function Call:transfer(target)
  local call = new_call(nil, false)
  call.referrer = self
  local session, err = uas.ua:invite(target, call:sdp("sendrecv"), SDP_TYPE, nil, call,
    function(s, resp) call:on_transfer_response(resp) end)
  if not session then
    self:log(("calling %s failed: %s"):format(target, err))
    return self:notify_referrer(503, "Service Unavailable")
  end
  call.session = session
  uas.live = uas.live + 1
  call:log(("calling %s (transfer from call %d)"):format(target, self.id))
end

function Call:on_transfer_response(resp)
  if resp and resp.status == 100 then return end
  self:log(common.status_text(resp) .. " from the transfer target")
  if resp then
    self.referrer:notify_referrer(resp.status, resp.reason)
  else
    self.referrer:notify_referrer(408, "Request Timeout")
  end
  if resp and resp.status >= 200 and resp.status < 300 then
    loop:later(HANGUP_MS, self.hangup, self)
  end
end

function Call:notify_referrer(status, reason)
  if not self.refer or status <= self.notified then return end
  self.notified = status
  local ok, err = self.refer:notify_refer(status, reason)
  if ok then
    self:log(("NOTIFY to the referrer: %d %s"):format(status, reason))
  else
    self:log("NOTIFY to the referrer not sent: " .. err)
  end
  if status >= 200 then self.refer = nil end -- final: the subscription ended
end

function Call:hangup()
  if self.session.state == sipsess.SESSION_TERMINATED then return end
  self:log("hanging up the transferred call")
  uas.pending = uas.pending + 1
  assert(self.session:bye(nil, function(s, resp)
    if resp and resp.status < 200 then return end
    uas.pending = uas.pending - 1
    self:log("BYE -> " .. common.status_text(resp))
  end))
end

-- ---- state ----
function Call:on_state_change(session, state)
  self:log("state " .. common.state_name(state))
end

function Call:on_terminated(session, cause)
  self:log("terminated " .. common.cause_name(cause))
  uas.live = uas.live - 1
  if self.incoming then uas.incoming_ended = uas.incoming_ended + 1 end
  self.invite, self.refer = nil, nil
end

-- ---- the UA delegate: a new incoming INVITE ----
local delegate = {}

function delegate:on_invite(session, request)
  local call = new_call(session, true)
  uas.live = uas.live + 1
  assert(session:set_delegate(call))
  call:log(("INVITE from %s sdp %s"):format(session.remote_uri, direction(request.body)))
  assert(request:progress(180))
  assert(request:keep())     -- answered later, by the timer
  call.invite = request
  loop:later(RING_MS, call.answer, call)
end

function delegate:on_request(request)
  log(("out-of-dialog %s (library default answer)"):format(request.method_name))
end

-- ---- the application (the table sipsess-lua runs) ----
local status = 1

local function done()
  return opt.calls > 0 and uas.incoming_ended >= opt.calls and uas.live == 0 and uas.pending == 0
end

local app = {
  ua = { listen = opt.listen, identity = "sip:uas@127.0.0.1", delegate = delegate,
         raise_errors = true },
  main = function(ua)
    uas.ua, loop = ua, common.loop(ua)
    log("listening on " .. ua:listener(0))
    if loop:run(done, opt.max_time) then
      log(("done: %d calls ended"):format(uas.incoming_ended))
      status = 0
    elseif opt.calls > 0 then
      log(("max time reached: %d of %d calls ended"):format(uas.incoming_ended, opt.calls))
      status = 1
    else
      log(("max time reached: %d calls ended"):format(uas.incoming_ended))
      status = 0
    end
    ua:stop()
  end,
  finish = function(ua) return status end,
}

if hosted then return app end

-- lua5.4: what sipsess-lua does with the table
local ua = sipsess.new_ua(app.ua)
app.main(ua, arg)
local st = app.finish(ua)
ua:close()
os.exit(st)
