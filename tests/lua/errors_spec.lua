-- Lua errors inside callbacks: reported with a traceback, the request
-- answered 500 when it was not answered yet, and the session and the loop
-- keep serving. ua.raise_errors hands the error to the loop call.
local H = require "helper"
local sipsess = H.sipsess

-- An error handler recording {tb, name} entries.
local function recorder()
  local errs = {}
  return errs, function(tb, name) errs[#errs + 1] = { tb = tb, name = name } end
end

local function assert_reported(errs, name, pattern)
  assert.is_true(#errs >= 1, "no error reported")
  local e = errs[1]
  assert.are.equal(name, e.name)
  assert.are.equal("string", type(e.tb))
  assert.matches("stack traceback", e.tb, 1, true)
  if pattern then assert.matches(pattern, e.tb, 1, true) end
end

-- A memnet pair: callee sessions get make(session, request); both UAs
-- report to `handler`. Returns a, b, calls (the callee's sessions), net.
local function pair(make, handler, bopts, aopts)
  local function with(o)
    local r = { error_handler = handler }
    for k, v in pairs(o or {}) do r[k] = v end
    return r
  end
  local d, calls = H.answerer(make)
  local net, a, b = H.mem_pair(d, with(aopts), with(bopts))
  return a, b, calls, net
end

local function info_status(a, b, s)
  return H.final_status({ a, b }, function(h) return s:info("x", "text/plain", nil, h) end)
end

describe("errors in callbacks", function()
  after_each(H.after_test)

  it("request callback: 500, reported with a traceback, the session keeps serving", function()
    local errs, handler = recorder()
    local n = 0
    local a, b, calls = pair(function()
      return { on_info = function(_, _, request)
        n = n + 1
        if n == 1 then error("boom in on_info") end
        assert(request:accept())
      end }
    end, handler)
    local s = H.connect(a, b, calls)
    assert.are.equal(500, info_status(a, b, s))
    assert_reported(errs, "on_info", "boom in on_info")
    assert.matches("errors_spec.lua", errs[1].tb, 1, true)
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
    assert.are.equal(200, info_status(a, b, s))
    assert.are.equal(2, n)
    assert.are.equal(1, #errs)
  end)

  it("every request callback kind gets 500 on error", function()
    local errs, handler = recorder()
    local function boom(name) return function() error("boom " .. name) end end
    local a, b, calls = pair(function()
      return { on_info = boom("info"), on_message = boom("message"), on_invite = boom("invite"),
        on_update = boom("update"), on_refer = boom("refer"), on_notify = boom("notify"),
        on_request = boom("request"), on_bye = boom("bye") }
    end, handler)
    local s = H.connect(a, b, calls)
    local function st(send) return H.final_status({ a, b }, send) end
    assert.are.equal(500, st(function(h) return s:message("m", nil, nil, h) end))
    assert.are.equal(500, st(function(h) return s:invite(H.SDP2, H.CT, nil, h) end))
    assert.are.equal(500, st(function(h) return s:update(H.SDP2, H.CT, nil, h) end))
    assert.are.equal(500, st(function(h) return s:refer("sip:c@127.0.0.1:9", nil, h) end))
    assert.are.equal(500, st(function(h) return s:notify("n", "text/plain", "Event: x\r\nSubscription-State: active", h) end))
    assert.are.equal(500, st(function(h) return s:request("FOO", nil, nil, nil, h) end))
    assert.are.equal(500, st(function(h) return s:info("i", "text/plain", nil, h) end))
    local names = {}
    for _, e in ipairs(errs) do
      names[#names + 1] = e.name
      assert.matches("stack traceback", e.tb, 1, true)
    end
    assert.are.same({ "on_message", "on_invite", "on_update", "on_refer", "on_notify",
      "on_request", "on_info" }, names)
    -- a BYE whose callback raises still ends the session (a 500 to BYE
    -- would not keep the dialog alive)
    assert.are.equal(sipsess.SESSION_CONFIRMED, calls[1].state)
    st(function(h) return s:bye(nil, h) end)
    assert.are.equal("on_bye", errs[#errs].name)
    assert.are.equal(sipsess.SESSION_TERMINATED, s.state)
  end)

  it("an error after the answer leaves the answer as it was", function()
    local errs, handler = recorder()
    local a, b, calls = pair(function()
      return { on_info = function(_, _, request)
        assert(request:reply(202))
        error("after answering")
      end }
    end, handler)
    local s = H.connect(a, b, calls)
    assert.are.equal(202, info_status(a, b, s))
    assert_reported(errs, "on_info", "after answering")
  end)

  it("UA on_invite: 500 to the INVITE, the next call works", function()
    local errs, handler = recorder()
    local n = 0
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { error_handler = handler, delegate = {
      on_invite = function(_, _, request)
        n = n + 1
        if n == 1 then error("no calls today") end
        assert(request:accept(H.SDP2, H.CT))
      end } })
    local a = H.mem_ua(net, { error_handler = handler })
    local final
    local s1 = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(_, r) final = r.status end))
    assert.truthy(H.pump({ a, b }, function() return final and final >= 200 end))
    assert.are.equal(500, final)
    assert.are.equal(sipsess.TERM_REJECTED, s1.term_cause)
    assert_reported(errs, "on_invite", "no calls today")
    local s2 = assert(a:invite(H.uri(b), H.SDP, H.CT))
    assert.truthy(H.pump({ a, b }, function() return s2.state == sipsess.SESSION_CONFIRMED end))
  end)

  it("on_state_change: reported, the call still gets Confirmed and serves", function()
    local errs, handler = recorder()
    local a, b, calls = pair(function()
      return { on_state_change = function(_, _, st) error("state " .. st) end,
        on_info = function(_, _, r) assert(r:accept()) end }
    end, handler)
    local s = H.connect(a, b, calls)
    assert_reported(errs, "on_state_change", "state")
    assert.are.equal(200, info_status(a, b, s))
  end)

  it("on_terminated: reported, a new call succeeds", function()
    local errs, handler = recorder()
    local a, b, calls = pair(function()
      return { on_terminated = function() error("in on_terminated") end }
    end, handler)
    local s = H.connect(a, b, calls)
    assert(s:bye())
    assert.truthy(H.pump({ a, b }, function() return #errs > 0 end))
    assert_reported(errs, "on_terminated", "in on_terminated")
    assert.are.equal(sipsess.SESSION_TERMINATED, calls[1].state)
    local s2 = H.connect(a, b, calls)
    assert.are.equal(sipsess.SESSION_CONFIRMED, s2.state)
  end)

  it("response handlers (function and table): reported, the session goes on", function()
    local errs, handler = recorder()
    local a, b, calls = pair(function()
      return { on_info = function(_, _, r) assert(r:accept()) end }
    end, handler)
    local s = H.connect(a, b, calls, nil, function() error("in handler fn") end)
    assert_reported(errs, "on_accept", "in handler fn")
    local ok
    assert(s:info("x", "text/plain", nil, { on_accept = function() ok = true; error({ code = 1 }) end }))
    assert.truthy(H.pump({ a, b }, function() return #errs == 2 end))
    assert.is_true(ok)
    assert.are.equal("on_accept", errs[2].name)
    assert.matches("error object is a table value", errs[2].tb, 1, true)
    assert.matches("stack traceback", errs[2].tb, 1, true)
    assert.are.equal(200, info_status(a, b, s))
  end)

  it("log and trace hooks: reported, the loop keeps working", function()
    local errs, handler = recorder()
    local lines, traces = 0, 0
    local a, b, calls = pair(function()
      return { on_info = function(_, _, r) assert(r:accept()) end }
    end, handler, {
      log_level = sipsess.LOG_DEBUG,
      log = function(level, line) lines = lines + 1; error("log hook " .. level) end,
      trace = function(out, tr, l, r, data) traces = traces + 1; error("trace hook") end,
    })
    local s = H.connect(a, b, calls)
    assert.is_true(lines > 0)
    assert.is_true(traces > 0)
    local seen = {}
    for _, e in ipairs(errs) do
      seen[e.name] = true
      assert.matches("stack traceback", e.tb, 1, true)
    end
    assert.is_true(seen.log, "log error reported")
    assert.is_true(seen.trace, "trace error reported")
    assert.are.equal(200, info_status(a, b, s))
  end)

  it("trace hook arguments", function()
    local seen = {}
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { delegate = H.answerer() })
    local a = H.mem_ua(net, { trace = function(out, transport, l, r, data)
      seen[#seen + 1] = { out, transport, l, r, data:match("^[^\r]*") }
    end })
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    assert.are.equal(1, seen[1][1])
    assert.matches("^INVITE sip:", seen[1][5])
    assert.are.equal("mem", seen[1][2]:lower():match("mem") or seen[1][2])
    local got200
    for _, t in ipairs(seen) do
      if t[1] == 0 and t[5] == "SIP/2.0 200 OK" then got200 = true end
    end
    assert.is_true(got200)
  end)

  it("non-string error values do not crash", function()
    local errs, handler = recorder()
    local k = 0
    local values = { {}, setmetatable({}, { __tostring = function() return "custom tostring" end }),
      42, true, false }
    local a, b, calls = pair(function()
      return { on_info = function()
        k = k + 1
        local v = values[k]
        if v == nil then error() end -- error(nil)
        error(v)
      end }
    end, handler)
    local s = H.connect(a, b, calls)
    for _ = 1, #values + 1 do assert.are.equal(500, info_status(a, b, s)) end
    assert.are.equal(#values + 1, #errs)
    for _, e in ipairs(errs) do assert.matches("stack traceback", e.tb, 1, true) end
    assert.matches("error object is a table value", errs[1].tb, 1, true)
    assert.matches("custom tostring", errs[2].tb, 1, true)
    assert.matches("42", errs[3].tb, 1, true)
    assert.matches("boolean", errs[4].tb, 1, true)
    assert.matches("boolean", errs[5].tb, 1, true)
    assert.matches("nil", errs[6].tb, 1, true)
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
  end)

  it("an error handler that raises does not stop the loop", function()
    local p = H.lua([[
      local sipsess = require "sipsess"
      local net = sipsess.Memnet()
      local b = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true,
        error_handler = function() error("handler fails too") end,
        delegate = { on_invite = function(_, s, r)
          s:set_delegate({ on_info = function() error("first") end })
          assert(r:accept("v=0\r\n", "application/sdp")) end } }
      local a = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true }
      local st
      local s = assert(a:invite("sip:b@127.0.0.1:" .. b:port(0), "v=0\r\n", "application/sdp"))
      for _ = 1, 50 do a:advance(10); b:advance(10) end
      s:info("x", "text/plain", nil, function(_, r) st = r.status end)
      for _ = 1, 50 do a:advance(10); b:advance(10) end
      print("status", st, s.state)
    ]])
    assert.are.equal(0, p:wait(10), p:describe())
    assert.matches("status\t500\t3", p:stdout())
    assert.matches("error in the error handler", p:stderr(), 1, true)
    assert.matches("error in callback on_info", p:stderr(), 1, true)
    assert.matches("stack traceback", p:stderr(), 1, true)
  end)

  it("without an error handler errors go to stderr with the traceback", function()
    local p = H.lua([[
      local sipsess = require "sipsess"
      local net = sipsess.Memnet()
      local b = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true,
        delegate = { on_invite = function(_, s, r) error("stderr please") end } }
      local a = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true }
      local st
      a:invite("sip:b@127.0.0.1:" .. b:port(0), nil, nil, nil, nil,
        function(_, r) st = r.status end)
      for _ = 1, 50 do a:advance(10); b:advance(10) end
      print("status", st)
    ]])
    assert.are.equal(0, p:wait(10), p:describe())
    assert.matches("status\t500", p:stdout())
    assert.matches("sipsess: error in callback on_invite: [^\n]*stderr please\nstack traceback", p:stderr())
  end)

  it("memnet filter: an error is reported on stderr (no UA to report to), datagrams pass", function()
    local p = H.lua([[
      local sipsess = require "sipsess"
      local net = sipsess.Memnet()
      local n = 0
      assert(net:set_filter(function(from, to, data)
        n = n + 1
        if n == 1 then error("filter fails") end
        return false
      end))
      local b = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true,
        error_handler = function(tb, name) print("handler got", name) end,
        delegate = { on_invite = function(_, s, r) assert(r:accept("v=0\r\n", "application/sdp")) end } }
      local a = sipsess.new_ua{ listen = "mem:0", memnet = net, virtual_clock = true,
        error_handler = function(tb, name) print("handler got", name) end }
      local s = assert(a:invite("sip:b@127.0.0.1:" .. b:port(0), "v=0\r\n", "application/sdp"))
      for _ = 1, 50 do a:advance(10); b:advance(10) end
      print("state", s.state, "filtered", n)
    ]])
    assert.are.equal(0, p:wait(10), p:describe())
    assert.matches("state\t3\tfiltered\t%d+", p:stdout())
    assert.matches("sipsess: error in callback filter: [^\n]*filter fails\nstack traceback", p:stderr())
  end)

  it("memnet filter drops datagrams (loss is retransmitted)", function()
    local net = sipsess.Memnet()
    local dropped = 0
    assert(net:set_filter(function(from, to, data)
      assert.matches("^mem:%d+$", from)
      assert.matches("^mem:%d+$", to)
      if dropped < 2 and data:match("^INVITE ") then
        dropped = dropped + 1
        return true
      end
      return false
    end))
    local b = H.mem_ua(net, { delegate = H.answerer() })
    local a = H.mem_ua(net)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.run_for({ a, b }, 400)
    assert.are.equal(sipsess.SESSION_INITIAL, s.state)
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end, 5000, 50))
    assert.are.equal(2, dropped)
    assert(net:set_filter(nil))
  end)
end)

describe("ua.raise_errors", function()
  after_each(H.after_test)

  it("the loop call returns nil, traceback, ECALLBACK; the next call goes on", function()
    local n = 0
    local net = sipsess.Memnet()
    -- no error handler on b: raise_errors decides
    local b = sipsess.new_ua { listen = "mem:0", memnet = net, virtual_clock = true, raise_errors = true,
      delegate = H.answerer(function()
        return { on_info = function(_, _, r)
          n = n + 1
          if n == 1 then error("raised to the loop") end
          assert(r:accept())
        end }
      end) }
    assert.are.equal(true, b.raise_errors)
    local a = H.mem_ua(net)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local st
    assert(s:info("x", "text/plain", nil, function(_, r) st = r.status end))
    local rets
    for _ = 1, 100 do
      assert(a:advance(5))
      local r = table.pack(b:advance(5))
      if r[1] == nil then rets = r; break end
    end
    assert.is_table(rets, "no loop call returned the error")
    assert.is_nil(rets[1])
    assert.matches("raised to the loop", rets[2], 1, true)
    assert.matches("stack traceback", rets[2], 1, true)
    assert.are.equal(sipsess.ECALLBACK, rets[3])
    -- the request still got its 500 and the loop keeps going
    assert.truthy(H.pump({ a, b }, function() return st end))
    assert.are.equal(500, st)
    st = nil
    assert(s:info("y", "text/plain", nil, function(_, r) st = r.status end))
    assert.truthy(H.pump({ a, b }, function() return st end))
    assert.are.equal(200, st)
    -- off again: errors are only reported (stderr) and the call returns normally
    b.raise_errors = false
    b:close()
    a:close()
  end)

  it("step() on real sockets returns the error too", function()
    local b = sipsess.new_ua { listen = "udp:127.0.0.1:0",
      delegate = { on_invite = function() error({ "not a string" }) end } }
    b.raise_errors = true
    local a = H.new_ua { listen = "udp:127.0.0.1:0" }
    H.defer(function() a:close(); b:close() end)
    local final
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(_, r) final = r.status end))
    local rets
    local deadline = H.now() + 5
    while not rets and H.now() < deadline do
      assert(a:step(1))
      local r = table.pack(b:step(1))
      if r[1] == nil then rets = r end
    end
    assert.is_table(rets)
    assert.are.equal(sipsess.ECALLBACK, rets[3])
    assert.matches("error object is a table value", rets[2], 1, true)
    assert.matches("stack traceback", rets[2], 1, true)
    assert.truthy(H.spin({ a, b }, function() return final end, 5))
    assert.are.equal(500, final)
  end)

  it("sipsess.wait raises the error of a callback (virtual clock and real sockets)", function()
    for _, real in ipairs({ false, true }) do
      local net = sipsess.Memnet()
      local listen = real and "udp:127.0.0.1:0" or "mem:0"
      local b = H.new_ua { listen = listen, memnet = net, virtual_clock = not real,
        error_handler = false, raise_errors = true,
        delegate = { on_invite = function() error("raised through wait") end } }
      local a = H.new_ua { listen = listen, memnet = net, virtual_clock = not real }
      assert(a:invite(H.uri(b), H.SDP, H.CT))
      if real then assert(a:step(10)) else assert(a:advance(1)) end
      local ok, err = pcall(sipsess.wait, b, function() return false end, 500, (not real) and 5 or nil)
      assert.is_false(ok, real and "udp" or "memnet")
      assert.matches("raised through wait", err, 1, true)
      assert.matches("stack traceback", err, 1, true)
      a:close()
      b:close()
    end
  end)

  it("run() returns the error of a callback", function()
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { error_handler = false })
    b.raise_errors = true
    assert(b:set_delegate({ on_invite = function() error("stop the run") end }))
    local a = H.mem_ua(net)
    assert(a:invite(H.uri(b), H.SDP, H.CT))
    assert(a:advance(1)) -- the INVITE is on its way
    local ok, tb, code = b:run()
    assert.is_nil(ok)
    assert.matches("stop the run", tb, 1, true)
    assert.are.equal(sipsess.ECALLBACK, code)
  end)
end)
