-- Request handles: answering later with keep(), and what a handle does
-- once its callback has returned.
local H = require "helper"
local sipsess = H.sipsess

describe("request handles", function()
  after_each(H.after_test)

  it("keep() then answer an INFO on a later loop turn", function()
    local kept
    local net, a, b = H.mem_pair(H.answerer(function()
      return { on_info = function(_, _, request)
        assert.are.equal(0, request:keep())
        assert.are.equal(0, request:keep()) -- twice is fine
        kept = request
      end }
    end))
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local final
    assert(s:info("later", "text/plain", nil, function(_, r) final = r end))
    assert.truthy(H.pump({ a, b }, function() return kept end))
    -- several loop turns (2 s of virtual time) and no answer yet
    H.run_for({ a, b }, 2000, 50)
    assert.is_nil(final)
    assert.are.equal(true, kept.valid)
    assert.are.equal(false, kept.answered)
    assert.are.equal("later", kept.body)
    assert(kept:reply(299, "Much Later", "done", "text/plain"))
    assert.are.equal(true, kept.answered)
    assert.truthy(H.pump({ a, b }, function() return final end))
    assert.are.equal(299, final.status)
    assert.are.equal("done", final.body)
    -- answered: a second answer is refused by the library
    local ok, msg, code = kept:accept()
    assert.is_nil(ok)
    assert.are.equal(sipsess.ESTATE, code)
    assert.matches("ESTATE", msg)
  end)

  it("keep() the INVITE and accept it later", function()
    local invite, sess
    local net, a, b = H.mem_pair({ on_invite = function(_, session, request)
      assert(request:keep())
      assert(request:progress(180))
      invite, sess = request, session
    end })
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_EARLY end))
    H.run_for({ a, b }, 3000, 100)
    assert.are.equal(sipsess.SESSION_EARLY, s.state)
    assert.are.equal(sipsess.SESSION_EARLY, sess.state)
    assert(invite:accept(H.SDP2, H.CT))
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end))
    assert.are.equal(H.SDP2, s:body(sipsess.BODY_REMOTE_ANSWER))
  end)

  it("a handle used after its callback without keep() returns nil, msg, ESTATE", function()
    local late, late_invite
    local net, a, b = H.mem_pair(H.answerer(function(session, request)
      late_invite = request
      return { on_info = function(_, _, request) late = request end }
    end))
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local final
    assert(s:info("x", "text/plain", nil, function(_, r) final = r.status end))
    assert.truthy(H.pump({ a, b }, function() return final end))
    assert.are.equal(200, final) -- the default, the callback returned without answer
    for _, r in ipairs({ late, late_invite }) do
      assert.are.equal(false, r.valid)
      for _, call in ipairs({
        function() return r:accept() end,
        function() return r:reply(200) end,
        function() return r:reject(486) end,
        function() return r:progress(180) end,
        function() return r:trying() end,
        function() return r:redirect("<sip:x@127.0.0.1:9>") end,
        function() return r:keep() end,
        function() return r:notify_refer(200) end,
      }) do
        local ok, msg, code = call()
        assert.is_nil(ok)
        assert.are.equal(sipsess.ESTATE, code)
        assert.are.equal("string", type(msg))
      end
      assert.is_nil(r:header("Call-ID"))
      assert.is_nil(r:message())
      assert.is_nil(r:session())
      assert.are.equal(-1, r.method)
      assert.are.equal("", r.body)
    end
  end)

  it("a kept request collected unanswered gets 500", function()
    local net, a, b = H.mem_pair(H.answerer(function()
      return { on_message = function(_, _, request) assert(request:keep()) end }
    end))
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local final
    assert(s:message("m", nil, nil, function(_, r) final = r.status end))
    H.run_for({ a, b }, 500)
    assert.is_nil(final)
    H.full_gc()
    assert.truthy(H.pump({ a, b }, function() return final end))
    assert.are.equal(500, final)
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
  end)

  it("a kept request unanswered for 64*T1 gets 500 from the library", function()
    local kept
    local net, a, b = H.mem_pair(H.answerer(function()
      return { on_info = function(_, _, request) assert(request:keep()); kept = request end }
    end))
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local final
    assert(s:info("x", "text/plain", nil, function(_, r) final = r and r.status or 0 end))
    assert.truthy(H.pump({ a, b }, function() return final end, 40000, 100))
    assert.are.equal(500, final)
    assert.are.equal(true, kept.answered)
  end)

  it("closing the UA releases kept requests (ESTATE after)", function()
    local kept
    local net, a, b = H.mem_pair(H.answerer(function()
      return { on_info = function(_, _, request) assert(request:keep()); kept = request end }
    end))
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    assert(s:info("x", "text/plain"))
    H.pump({ a, b }, function() return kept end)
    b:close()
    assert.are.equal(false, kept.valid)
    local ok, _, code = kept:accept()
    assert.is_nil(ok)
    assert.are.equal(sipsess.ESTATE, code)
  end)
end)
