-- Every session callback, the UA delegate, response handlers (function and
-- table) and the library's default answers, between two Lua UAs on a
-- memnet with the virtual clock.
local H = require "helper"
local sipsess = H.sipsess

-- A fresh pair: caller `a`, callee `b` whose sessions get the delegate
-- made by `make()` (nil: none) and whose INVITE is answered by `answer`
-- (default: accept with an SDP answer).
local function pair(make, answer, aopts, bopts)
  local calls = {}
  local bdel = {
    on_invite = function(_, session, request)
      calls[#calls + 1] = session
      local d = make and make(session, request, calls)
      if d then assert(session:set_delegate(d)) end
      if answer then answer(session, request) else assert(request:accept(H.SDP2, H.CT)) end
    end,
  }
  local net, a, b = H.mem_pair(bdel, aopts, bopts)
  return a, b, calls, net
end

local function status_of(a, b, send)
  return H.final_status({ a, b }, send)
end

describe("session callbacks", function()
  after_each(H.after_test)
  it("on_ack gets the ACK of the 2xx", function()
    local acks = {}
    local a, b, calls = pair(function()
      return { on_ack = function(_, session, request)
        acks[#acks + 1] = { request.method, request.method_name, session.state }
      end }
    end)
    local s, bs = H.connect(a, b, calls)
    assert.are.equal(1, #acks)
    assert.are.same({ sipsess.METHOD_ACK, "ACK" }, { acks[1][1], acks[1][2] })
    assert.are.equal(bs.call_id, s.call_id)
  end)

  it("on_ack_timeout when the caller never ACKs (auto_ack = false)", function()
    local got = {}
    local a, b, calls = pair(function()
      return {
        on_ack_timeout = function(_, session, request)
          got[#got + 1] = { request == nil, session.state }
        end,
        on_terminated = function(_, _, cause) got.cause = cause end,
      }
    end, nil, { auto_ack = false })
    local accepted
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
      { on_accept = function(_, session) accepted = session.state end }))
    assert.truthy(H.pump({ a, b }, function() return accepted end, 1000))
    assert.are.equal(sipsess.SESSION_ACK_WAIT, accepted)
    assert.are.equal(sipsess.SESSION_ACK_WAIT, s.state)
    -- no ACK: after 64*T1 (32 s) of virtual time the callee gives up
    assert.is_nil(got[1])
    H.run_for({ a, b }, 20000, 100)
    assert.is_nil(got[1], "too early")
    assert.truthy(H.pump({ a, b }, function() return got.cause end, 20000, 100))
    assert.are.equal(1, #got)
    assert.is_true(got[1][1], "request is nil")
    assert.are.equal(sipsess.TERM_ACK_TIMEOUT, got.cause)
    assert.are.equal(sipsess.TERM_ACK_TIMEOUT, calls[1].term_cause)
    -- the library's default after the callback: BYE to the caller
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_TERMINATED end))
  end)

  it("an ACK sent by hand with auto_ack = false reaches on_ack", function()
    local acked = 0
    local a, b, calls = pair(function()
      return { on_ack = function() acked = acked + 1 end,
        on_ack_timeout = function() error("unexpected ACK timeout") end }
    end, nil, { auto_ack = false })
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
      { on_accept = function(_, session) assert(session:ack()) end }))
    assert.truthy(H.pump({ a, b }, function() return acked == 1 end, 1000))
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
    H.run_for({ a, b }, 40000, 500)
    assert.are.equal(sipsess.SESSION_CONFIRMED, calls[1].state)
  end)

  it("on_bye gets the BYE", function()
    local byes = {}
    local a, b, calls = pair(function()
      return { on_bye = function(_, session, request)
        byes[#byes + 1] = request.method_name
        assert.are.equal(sipsess.METHOD_BYE, request.method)
      end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(200, status_of(a, b, function(h) return s:bye(nil, h) end))
    assert.are.same({ "BYE" }, byes)
    assert.are.equal(sipsess.SESSION_TERMINATED, calls[1].state)
    assert.are.equal(sipsess.TERM_REMOTE_BYE, calls[1].term_cause)
  end)

  it("on_info answers INFO; without on_info the default is 469", function()
    local infos = {}
    local a, b, calls = pair(function(session, _, calls)
      if #calls == 1 then
        return { on_info = function(_, _, request)
          infos[#infos + 1] = { request.body, request.content_type, request:header("X-Seq") }
          assert(request:reply(202, "Got It", "info-answer", "text/plain", "X-Reply: yes"))
        end }
      end
      return { on_bye = function() end }
    end)
    local s = H.connect(a, b, calls)
    local resp
    assert(s:info("payload", "application/x-info", "X-Seq: 7", function(_, r) resp = r end))
    assert.truthy(H.pump({ a, b }, function() return resp end))
    assert.are.same({ "payload", "application/x-info", "7" }, infos[1])
    assert.are.equal(202, resp.status)
    assert.are.equal("Got It", resp.reason)
    assert.are.equal("info-answer", resp.body)
    assert.are.equal("yes", resp:header("X-Reply"))
    assert.are.equal("INFO", resp.method_name)
    assert.are.equal(false, resp.is_request)
    -- second call: a delegate without on_info
    local s2 = H.connect(a, b, calls)
    assert.are.equal(469, status_of(a, b, function(h) return s2:info("x", "text/plain", nil, h) end))
    assert.are.equal(1, #infos)
  end)

  it("on_invite gets a re-INVITE (offer answered in the 200)", function()
    local got = {}
    local a, b, calls = pair(function()
      return { on_invite = function(_, session, request)
        got[#got + 1] = request.body
        assert.are.equal(sipsess.SIGNALING_HAVE_REMOTE_OFFER, session.signaling_state)
        assert(request:accept(H.SDP, H.CT))
      end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(200, status_of(a, b, function(h) return s:invite(H.SDP2, H.CT, nil, h) end))
    assert.are.same({ H.SDP2 }, got)
    assert.are.equal(H.SDP, s:body(sipsess.BODY_REMOTE_ANSWER))
    assert.are.equal(sipsess.SIGNALING_STABLE, s.signaling_state)
  end)

  it("on_message gets MESSAGE", function()
    local got = {}
    local a, b, calls = pair(function()
      return { on_message = function(_, _, request)
        got[#got + 1] = { request.body, request.content_type }
        assert(request:reject(415))
      end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(415, status_of(a, b, function(h) return s:message("hi there", nil, nil, h) end))
    assert.are.same({ { "hi there", "text/plain" } }, got)
  end)

  it("on_refer (keep, notify_refer later) and on_notify with sipfrag_status", function()
    local refer
    local a, b, calls = pair(function()
      return { on_refer = function(_, _, request)
        assert.are.equal(sipsess.METHOD_REFER, request.method)
        assert.are.equal("sip:carol@127.0.0.1:9", request:header("Refer-To"):match("<?([^>]+)>?"))
        assert(request:keep())
        assert(request:accept())
        refer = request
      end }
    end)
    local notes = {}
    local s = H.connect(a, b, calls, { on_notify = function(_, _, request)
      notes[#notes + 1] = { request.sipfrag_status, request.subscription_terminated,
        request:header("Event") }
    end })
    local rs = status_of(a, b, function(h) return s:refer("sip:carol@127.0.0.1:9", nil, h) end)
    assert.are.equal(202, rs)
    assert.truthy(H.pump({ a, b }, function() return #notes >= 1 end))
    assert.are.same({ 100, false, "refer" }, notes[1])
    -- a later loop turn: the transfer "succeeded"
    assert.is_true(refer.valid)
    local ns = status_of(a, b, function(h) return refer:notify_refer(200, nil, h) end)
    assert.are.equal(200, ns)
    assert.are.same({ 200, true, "refer" }, notes[2])
    -- the subscription is over
    local ok, _, code = refer:notify_refer(200)
    assert.is_nil(ok)
    assert.are.equal(sipsess.ESTATE, code)
  end)

  it("on_prack gets the PRACK of a reliable 183 with an SDP answer", function()
    local pracks, progress, invite = {}, {}, nil
    local a, b, calls = pair(function()
      return { on_prack = function(_, session, request)
        pracks[#pracks + 1] = request.method_name
        assert.are.equal(sipsess.METHOD_PRACK, request.method)
      end }
    end, function(session, request)
      assert(request:progress(183, nil, H.SDP2, H.CT, 1))
      assert(request:keep())
      invite = request
    end)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
      { on_progress = function(_, _, r) progress[#progress + 1] = { r.status, r:header("Require"), r.body } end }))
    assert.truthy(H.pump({ a, b }, function() return #pracks > 0 end))
    assert.are.same({ "PRACK" }, pracks)
    assert.are.same({ 183, "100rel", H.SDP2 }, progress[1])
    assert.are.equal(sipsess.SESSION_EARLY, s.state)
    assert(invite:accept())
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end))
    assert.are.equal(H.SDP2, s:body(sipsess.BODY_REMOTE_ANSWER))
  end)

  it("on_update gets UPDATE with an offer", function()
    local got = {}
    local a, b, calls = pair(function()
      return { on_update = function(_, _, request)
        got[#got + 1] = request.body
        assert(request:accept(H.SDP, H.CT))
      end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(200, status_of(a, b, function(h) return s:update(H.SDP2, H.CT, nil, h) end))
    assert.are.same({ H.SDP2 }, got)
    assert.are.equal(H.SDP, s:body(sipsess.BODY_REMOTE_ANSWER))
  end)

  it("on_cancel gets the CANCEL of an unanswered call", function()
    local cancels, ended = {}, nil
    local a, b, calls = pair(function()
      return {
        on_cancel = function(_, session, request) cancels[#cancels + 1] = request.method_name end,
        on_terminated = function(_, _, cause) ended = cause end,
      }
    end, function(_, request)
      assert(request:progress(180))
      assert(request:keep())
    end)
    local final
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, {
      on_progress = function(_, session) assert(session:cancel("Reason: SIP;cause=200")) end,
      on_reject = function(_, _, r) final = r.status end,
    }))
    assert.truthy(H.pump({ a, b }, function() return final and ended end))
    assert.are.same({ "CANCEL" }, cancels)
    assert.are.equal(487, final)
    assert.are.equal(sipsess.TERM_CANCELLED, ended)
    assert.are.equal(sipsess.TERM_CANCELLED, s.term_cause)
  end)

  it("on_request gets an extension method; without it the default is 501", function()
    local got = {}
    local a, b, calls = pair(function(_, _, calls)
      if #calls == 1 then
        return { on_request = function(_, session, request)
          got[#got + 1] = { request.method, request.method_name, request.body }
          assert(request:reply(200, nil, "foo-ok", "text/plain"))
        end }
      end
    end)
    local s = H.connect(a, b, calls)
    local body
    assert(s:request("FOO", "foo-body", "text/plain", nil, function(_, r) body = r.body end))
    assert.truthy(H.pump({ a, b }, function() return body end))
    assert.are.equal("foo-ok", body)
    assert.are.same({ { sipsess.METHOD_OTHER, "FOO", "foo-body" } }, got)
    local s2 = H.connect(a, b, calls)
    assert.are.equal(501, status_of(a, b, function(h) return s2:request("FOO", nil, nil, nil, h) end))
  end)

  it("on_state_change and on_terminated follow the call on both sides", function()
    local log = {}
    local function rec(side)
      return {
        on_state_change = function(_, session, st)
          log[#log + 1] = side .. ":" .. sipsess.names.state[st]
          assert.are.equal(st, session.state)
        end,
        on_terminated = function(_, session, cause)
          log[#log + 1] = side .. ":end:" .. sipsess.names.cause[cause]
        end,
      }
    end
    local a, b, calls = pair(function() return rec("b") end,
      function(_, request) assert(request:progress(180)); assert(request:accept(H.SDP2, H.CT)) end)
    local s = H.connect(a, b, calls, rec("a"))
    assert(calls[1]:bye())
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_TERMINATED end)
    H.run_for({ a, b }, 100)
    local function only(side)
      local r = {}
      for _, l in ipairs(log) do if l:sub(1, 1) == side then r[#r + 1] = l end end
      return r
    end
    assert.are.same({ "a:Early", "a:Confirmed", "a:Terminated", "a:end:RemoteBye" }, only("a"))
    assert.are.same({ "b:Early", "b:AckWait", "b:Confirmed", "b:Terminated", "b:end:LocalBye" }, only("b"))
  end)

  it("request accessors: uri, headers, whole message", function()
    local got
    local a, b, calls = pair(function()
      return { on_info = function(_, session, request)
        local m = request:message()
        got = { uri = request.uri, hdr = request:header("X-Multi", 1), none = request:header("X-None"),
          answered = request.answered, valid = request.valid, raw = m.raw, is_request = m.is_request,
          method = m.method_name, count = m.header_count, session = request:session() == session }
        for i = 0, m.header_count - 1 do
          if m:header_name(i) == "X-Multi" then got.first = m:header_value(i); break end
        end
        assert(request:accept())
        got.answered_after = request.answered
      end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(200, status_of(a, b, function(h)
      return s:info("b", "text/plain", "X-Multi: one\r\nX-Multi: two", h) end))
    assert.are.equal("two", got.hdr)
    assert.are.equal("one", got.first)
    assert.is_nil(got.none)
    assert.are.equal(false, got.answered)
    assert.are.equal(true, got.answered_after)
    assert.are.equal(true, got.valid)
    assert.are.equal(true, got.is_request)
    assert.are.equal("INFO", got.method)
    assert.is_true(got.count > 5)
    assert.is_true(got.session)
    assert.matches("^INFO sip:", got.raw)
    assert.matches("^sip:", got.uri)
  end)
end)

describe("UA delegate", function()
  after_each(H.after_test)
  it("on_invite gets the new session in state Initial; without it 480", function()
    local seen
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { delegate = { on_invite = function(_, session, request)
      seen = { session.state, session.outgoing, request.method_name, request:session() == session }
      assert(request:reject(486))
    end } })
    local a = H.mem_ua(net)
    local final
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(_, r)
      if r.status >= 200 then final = r.status end end))
    assert.truthy(H.pump({ a, b }, function() return final end))
    assert.are.same({ sipsess.SESSION_INITIAL, false, "INVITE", true }, seen)
    assert.are.equal(486, final)
    -- delegate removed: the library's default answer
    assert(b:set_delegate(nil))
    final = nil
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(_, r)
      if r.status >= 200 then final = r.status end end))
    assert.truthy(H.pump({ a, b }, function() return final end))
    assert.are.equal(480, final)
  end)
end)

describe("response handlers", function()
  after_each(H.after_test)
  it("a function gets every response, a table only its methods", function()
    local a, b, calls = pair(nil, function(_, request)
      assert(request:progress(180)); assert(request:progress(183))
      assert(request:accept(H.SDP2, H.CT))
    end)
    local all = {}
    local s1 = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(session, resp)
      all[#all + 1] = resp.status
      assert.are.equal("INVITE", resp.method_name)
    end))
    H.pump({ a, b }, function() return s1.state == sipsess.SESSION_CONFIRMED end)
    local got = {}
    for _, st in ipairs(all) do got[st] = true end
    assert.is_true(got[180] and got[183] and got[200])
    local only = {}
    local s2 = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
      { on_accept = function(self, session, resp)
        only[#only + 1] = resp.status
        assert.are.equal("table", type(self))
        assert.are.equal(sipsess.SESSION_CONFIRMED, session.state)
      end }))
    H.pump({ a, b }, function() return s2.state == sipsess.SESSION_CONFIRMED end)
    H.run_for({ a, b }, 50)
    assert.are.same({ 200 }, only)
    local prog = {}
    local s3 = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
      { on_progress = function(_, _, resp) prog[#prog + 1] = resp.status end }))
    H.pump({ a, b }, function() return s3.state == sipsess.SESSION_CONFIRMED end)
    assert.are.same({ 180, 183 }, prog)
  end)

  it("on_reject and on_redirect of a table handler", function()
    local mode = 486
    local a, b = pair(nil, function(_, request)
      if mode == 302 then assert(request:redirect("<sip:x@127.0.0.1:9>"))
      else assert(request:reject(mode)) end
    end)
    local r = {}
    local h = { on_reject = function(_, _, resp) r.reject = resp.status end,
      on_redirect = function(_, _, resp) r.redirect = resp:header("Contact") end }
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, h))
    H.pump({ a, b }, function() return r.reject end)
    mode = 302
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, h))
    H.pump({ a, b }, function() return r.redirect end)
    assert.are.equal(486, r.reject)
    assert.matches("sip:x@127.0.0.1:9", r.redirect, 1, true)
  end)
end)

describe("default answers", function()
  after_each(H.after_test)
  it("INFO 469, REFER 603, re-INVITE 488, UPDATE offer 488, FOO 501, MESSAGE 200", function()
    -- the callee's delegate has callbacks, just none of these
    local a, b, calls = pair(function() return { on_bye = function() end } end)
    local s = H.connect(a, b, calls)
    local function st(send) return status_of(a, b, send) end
    assert.are.equal(469, st(function(h) return s:info("x", "text/plain", nil, h) end))
    assert.are.equal(603, st(function(h) return s:refer("sip:c@127.0.0.1:9", nil, h) end))
    assert.are.equal(488, st(function(h) return s:invite(H.SDP2, H.CT, nil, h) end))
    assert.are.equal(488, st(function(h) return s:update(H.SDP2, H.CT, nil, h) end))
    assert.are.equal(501, st(function(h) return s:request("FOO", nil, nil, nil, h) end))
    assert.are.equal(200, st(function(h) return s:message("m", nil, nil, h) end))
    assert.are.equal(200, st(function(h) return s:notify("n", "text/plain", "Event: x\r\nSubscription-State: active", h) end))
    -- the session is still up
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
    assert.are.equal(sipsess.SESSION_CONFIRMED, calls[1].state)
  end)

  it("a callback that leaves the request unanswered gets the default", function()
    local n = 0
    local a, b, calls = pair(function()
      return { on_info = function() n = n + 1 end, on_refer = function() n = n + 1 end,
        on_request = function() n = n + 1 end }
    end)
    local s = H.connect(a, b, calls)
    assert.are.equal(200, status_of(a, b, function(h) return s:info("x", "text/plain", nil, h) end))
    assert.are.equal(603, status_of(a, b, function(h) return s:refer("sip:c@127.0.0.1:9", nil, h) end))
    assert.are.equal(501, status_of(a, b, function(h) return s:request("FOO", nil, nil, nil, h) end))
    assert.are.equal(3, n)
  end)
end)
