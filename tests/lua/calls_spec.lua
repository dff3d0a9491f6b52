-- Calls between two Lua UAs: in-memory network on the virtual clock, and
-- real UDP and TCP sockets on 127.0.0.1.
local H = require "helper"
local sipsess = H.sipsess

-- One whole call a -> b: offer/answer, INFO both ways, BYE from the
-- caller; `drive(pred)` moves the loops on.
local function whole_call(a, b, drive, transport)
  local log = {}
  local function rec(side)
    return {
      on_info = function(_, session, request)
        log[#log + 1] = side .. " info " .. request.body
        assert(request:accept("ok-" .. side, "text/plain"))
      end,
      on_bye = function(_, session, request) log[#log + 1] = side .. " bye" end,
      on_state_change = function(_, session, st)
        log[#log + 1] = side .. " " .. sipsess.names.state[st]
      end,
      on_terminated = function(_, session, cause)
        log[#log + 1] = side .. " end " .. sipsess.names.cause[cause]
      end,
    }
  end
  local calls = {}
  assert(b:set_delegate({
    on_invite = function(_, session, request)
      calls[#calls + 1] = session
      assert.are.equal("INVITE", request.method_name)
      assert.are.equal(sipsess.METHOD_INVITE, request.method)
      assert.are.equal(H.SDP, request.body)
      assert.are.equal(H.CT, request.content_type)
      assert(session:set_delegate(rec("b")))
      assert(request:progress(180))
      assert(request:accept(H.SDP2, H.CT))
    end,
  }))
  local responses = {}
  local s = assert(a:invite(H.uri(b, "bob", transport), H.SDP, H.CT, "X-Test: whole", rec("a"),
    function(_, resp) responses[#responses + 1] = resp.status end))
  assert.are.equal(true, s.outgoing)
  assert.truthy(drive(function() return s.state == sipsess.SESSION_CONFIRMED and calls[1]
    and calls[1].state == sipsess.SESSION_CONFIRMED end), "not confirmed")
  local bs = calls[1]
  assert.are.equal(false, bs.outgoing)
  assert.are.equal(s.call_id, bs.call_id)
  assert.are.equal(s.local_tag, bs.remote_tag)
  assert.are.equal(s.remote_tag, bs.local_tag)
  assert.are.equal(H.SDP2, s:body(sipsess.BODY_REMOTE_ANSWER))
  assert.are.equal(H.CT, s:body_type(sipsess.BODY_REMOTE_ANSWER))
  assert.are.equal(H.SDP, bs:body(sipsess.BODY_REMOTE_OFFER))
  assert.are.equal(sipsess.SIGNALING_STABLE, s.signaling_state)
  assert.are.same({ 180, 200 }, { responses[#responses - 1], responses[#responses] })

  local got = {}
  assert(s:info("ping-a", "text/plain", nil, function(_, r) got.a = r.body end))
  assert(bs:info("ping-b", "text/plain", nil, function(_, r) got.b = r.body end))
  assert.truthy(drive(function() return got.a and got.b end), "INFO not answered")
  assert.are.equal("ok-b", got.a)
  assert.are.equal("ok-a", got.b)

  assert(s:bye())
  assert.are.equal(sipsess.SESSION_TERMINATED, s.state)
  assert.truthy(drive(function() return bs.state == sipsess.SESSION_TERMINATED end), "BYE")
  local function has(l)
    for _, x in ipairs(log) do if x == l then return true end end
    return false
  end
  assert.truthy(drive(function() return has("a end LocalBye") and has("b end RemoteBye") end))
  assert.are.equal(sipsess.TERM_LOCAL_BYE, s.term_cause)
  assert.are.equal(sipsess.TERM_REMOTE_BYE, bs.term_cause)
  local want = { "a Early", "a Confirmed", "b Early", "b AckWait", "b Confirmed", "b info ping-a", "a info ping-b", "b bye",
    "a Terminated", "b Terminated", "a end LocalBye", "b end RemoteBye" }
  local seen = {}
  for _, l in ipairs(log) do seen[l] = true end
  for _, l in ipairs(want) do assert.is_true(seen[l] == true, "missing " .. l .. " in " .. table.concat(log, ", ")) end
end

describe("calls between two Lua UAs", function()
  after_each(H.after_test)
  it("memnet + virtual clock", function()
    local net = sipsess.Memnet()
    local b = H.mem_ua(net)
    local a = H.mem_ua(net)
    whole_call(a, b, function(pred) return H.pump({ a, b }, pred, 5000) end)
    -- virtual time only moved as far as we advanced it
    assert.is_true(a.now < 5000)
    a:close()
    b:close()
  end)

  for _, tr in ipairs({ "udp", "tcp" }) do
    it("real " .. tr .. " sockets on 127.0.0.1", function()
      local b = H.new_ua { listen = tr .. ":127.0.0.1:0" }
      local a = H.new_ua { listen = tr .. ":127.0.0.1:0" }
      H.defer(function() a:close(); b:close() end)
      assert.matches("^" .. tr .. ":127%.0%.0%.1:%d+$", b:listener(0))
      assert.is_true(b:port(0) > 0)
      whole_call(a, b, function(pred) return H.spin({ a, b }, pred, 5) end,
        tr == "tcp" and "tcp" or nil)
    end)
  end

  it("sipsess.wait: true once the predicate holds, its value at the timeout", function()
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { delegate = H.answerer() })
    local a = H.mem_ua(net)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    -- wait drives one UA: the other one moves with it on a shared clock here
    local t0 = a.now
    assert.is_true(sipsess.wait(a, function()
      assert(b:advance(5))
      return s.state == sipsess.SESSION_CONFIRMED
    end, 2000, 5))
    assert.is_true(a.now - t0 < 2000)
    t0 = a.now
    assert.is_false(sipsess.wait(a, function() return false end, 300, 50))
    assert.are.equal(300, a.now - t0)
    assert.is_nil(sipsess.wait(a, function() return nil end, 100, 50))
    -- real clock: wait steps the loop
    local u = H.new_ua { listen = "udp:127.0.0.1:0" }
    local w0 = H.now()
    assert.is_false(sipsess.wait(u, function() return false end, 100))
    assert.is_true(H.now() - w0 >= 0.09)
    u:close()
  end)

  it("invite errors: nil, message, code", function()
    local net = sipsess.Memnet()
    local a = H.mem_ua(net)
    local s, msg, code = a:invite("not a uri", H.SDP, H.CT)
    assert.is_nil(s)
    assert.are.equal("string", type(msg))
    assert.is_true(code == sipsess.EURI or code == sipsess.EINVAL, tostring(code))
    s, msg, code = a:invite("sip:x@127.0.0.1:5060;transport=tcp", H.SDP, H.CT)
    assert.is_nil(s)
    assert.are.equal(sipsess.ENOTFOUND, code)
    assert.matches("ENOTFOUND", msg)
    -- constructors raise
    assert.has_error(function() sipsess.new_ua { listen = "bogus:1" } end)
    assert.has_error(function() sipsess.new_ua { limits = { NO_SUCH = 1 } } end)
    a:close()
  end)

  it("rejected, cancelled and redirected calls end with their cause", function()
    local net = sipsess.Memnet()
    local mode
    local b = H.mem_ua(net, { delegate = {
      on_invite = function(_, session, request)
        if mode == "reject" then assert(request:reject(486))
        elseif mode == "redirect" then assert(request:redirect("<sip:other@127.0.0.1:9>"))
        else assert(request:progress(180)); assert(request:keep()); mode = request end
      end } })
    local a = H.mem_ua(net)
    local function call(m)
      mode = m
      local final
      local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil,
        { on_reject = function(_, _, r) final = r.status end,
          on_redirect = function(_, _, r) final = r.status end,
          on_progress = function(_, sess, r) if m == "cancel" then assert(sess:cancel()) end end }))
      assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_TERMINATED end))
      return s, final
    end
    local s, st = call("reject")
    assert.are.equal(486, st)
    assert.are.equal(sipsess.TERM_REJECTED, s.term_cause)
    s, st = call("redirect")
    assert.are.equal(302, st)
    assert.are.equal(sipsess.TERM_REDIRECTED, s.term_cause)
    s, st = call("cancel")
    assert.are.equal(487, st)
    assert.are.equal(sipsess.TERM_CANCELLED, s.term_cause)
    a:close()
    b:close()
  end)
end)
