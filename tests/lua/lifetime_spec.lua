-- Lifetime rules of the binding: what keeps what alive, what the garbage
-- collector may and may not do, objects used after their end, closing a
-- UA, and loop calls made from coroutines.
local H = require "helper"
local sipsess = H.sipsess

local function rss_kb()
  local f = io.open("/proc/self/statm")
  if not f then return 0 end
  local _, res = f:read("l"):match("(%d+)%s+(%d+)")
  f:close()
  return tonumber(res) * 4
end

-- References the binding holds (luaL_ref): registry entries that are
-- objects (freed references are numbers on the free list).
local function live_refs()
  local n = 0
  for k, v in pairs(debug.getregistry()) do
    if math.type(k) == "integer" and type(v) ~= "number" then n = n + 1 end
  end
  return n
end

describe("lifetime", function()
  after_each(H.after_test)

  it("a delegate is held until Terminated, then collectable", function()
    local weak = setmetatable({}, { __mode = "k" })
    local d, calls = H.answerer(function()
      local del = { on_info = function(_, _, r) assert(r:accept()) end }
      weak[del] = "callee"
      return del
    end)
    local net, a, b = H.mem_pair(d)
    local adel = { on_bye = function() end }
    weak[adel] = "caller"
    local handler = { on_accept = function() end }
    weak[handler] = "handler"
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, adel, handler))
    adel, handler = nil, nil
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    H.full_gc()
    -- the INVITE's handler may go with its final response; the session
    -- delegates stay while the call lives
    local alive = {}
    for _, v in pairs(weak) do alive[v] = true end
    assert.is_true(alive.caller and alive.callee, "delegates collected mid-call")
    assert.are.equal(200, H.final_status({ a, b }, function(h) return s:info("x", "text/plain", nil, h) end))
    assert(s:bye())
    H.pump({ a, b }, function() return calls[1].state == sipsess.SESSION_TERMINATED end)
    H.run_for({ a, b }, 100)
    H.full_gc()
    assert.are.equal(0, H.count(weak), "delegates still referenced after Terminated")
  end)

  it("the garbage collector never hangs up a call", function()
    local weak = setmetatable({}, { __mode = "v" })
    local infos, back = 0, nil
    local net = sipsess.Memnet()
    -- the callee keeps no reference of its own to its session or delegate
    local b = H.mem_ua(net, { delegate = H.answerer(function()
      return { on_info = function(_, session, r)
        infos = infos + 1
        assert.are.equal(sipsess.SESSION_CONFIRMED, session.state)
        assert(r:accept("pong " .. infos, "text/plain"))
        -- and an INFO back to the caller, whose delegate was dropped too
        assert(session:info("back", "text/plain", nil, function(_, resp) back = resp.status end))
      end }
    end) })
    local a = H.mem_ua(net)
    local caller_info
    do
      local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, {
        on_info = function(_, session, r)
          caller_info = session
          assert(r:accept())
        end }, function() end))
      weak.s = s
      H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    end
    H.full_gc()
    H.run_for({ a, b }, 2000, 50)
    H.full_gc()
    -- the binding holds the Session object while the call lives
    local s = weak.s
    assert.is_not_nil(s, "Session object collected mid-call")
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
    local st, body
    assert(s:info("ping", "text/plain", nil, function(_, r) st, body = r.status, r.body end))
    assert.truthy(H.pump({ a, b }, function() return st and back end))
    assert.are.equal(200, st)
    assert.are.equal("pong 1", body)
    assert.are.equal(200, back)
    assert.are.equal(s, caller_info) -- one Lua object per session
    assert.are.equal(sipsess.SESSION_CONFIRMED, s.state)
    a:close()
    b:close()
  end)

  it("1,000 calls over memnet: flat memory, no leaked delegates or references", function()
    local weak = setmetatable({}, { __mode = "k" })
    local ended = 0
    local function track(del) weak[del] = true; return del end
    local d, calls = H.answerer(function()
      return track({
        on_info = function(_, _, r) assert(r:accept("i", "text/plain")) end,
        on_terminated = function() ended = ended + 1 end,
      })
    end)
    local net, a, b = H.mem_pair(d)
    local uri = H.uri(b)
    local function batch(n)
      local ss = {}
      for i = 1, n do
        ss[i] = assert(a:invite(uri, H.SDP, H.CT, nil,
          track({ on_terminated = function() ended = ended + 1 end }),
          track({ on_accept = function() end })))
      end
      assert.truthy(H.pump({ a, b }, function()
        for _, s in ipairs(ss) do if s.state ~= sipsess.SESSION_CONFIRMED then return false end end
        return true
      end, 2000, 2))
      for _, s in ipairs(ss) do assert(s:info("x", "text/plain", nil, function() end)) end
      H.run_for({ a, b }, 10, 2)
      for _, s in ipairs(ss) do assert(s:bye()) end
      H.run_for({ a, b }, 20, 2)
      for k in pairs(calls) do calls[k] = nil end -- the answerer's list
    end
    local function settle()
      -- transactions and the INVITEs' handlers live 64*T1 after their end
      H.run_for({ a, b }, 40000, 200)
      H.full_gc()
    end
    -- rounds of 200 calls, each with the same peak (RSS keeps the peak)
    local function round()
      for _ = 1, 4 do batch(50) end
      settle()
    end
    round()
    local m0, r0, refs0 = collectgarbage("count"), rss_kb(), live_refs()
    ended = 0
    for _ = 1, 5 do round() end
    local m1, r1, refs1 = collectgarbage("count"), rss_kb(), live_refs()
    if os.getenv("SIPSESS_LUA_VERBOSE") then
      print(("\nLua heap %+.1f KB, RSS %+d KB, refs %d -> %d"):format(m1 - m0, r1 - r0, refs0, refs1))
    end
    assert.are.equal(2000, ended) -- both sides of 1,000 calls
    assert.are.equal(0, H.count(weak), "delegates or handlers still referenced")
    assert.are.equal(refs0, refs1)
    assert.is_true(m1 - m0 < 16, ("Lua heap grew %.1f KB"):format(m1 - m0))
    if not H.sanitized then -- ASan keeps freed memory in quarantine
      assert.is_true(r1 - r0 < 4096, ("RSS grew %d KB"):format(r1 - r0))
    end
    a:close()
    b:close()
  end)

  it("a Session used after termination returns nil, msg, ESTATE", function()
    local d, calls = H.answerer()
    local net, a, b = H.mem_pair(d)
    local s = H.connect(a, b, calls)
    local call_id = s.call_id
    assert(s:bye())
    H.pump({ a, b }, function() return calls[1].state == sipsess.SESSION_TERMINATED end)
    H.run_for({ a, b }, 100)
    H.full_gc()
    for _, sess in ipairs({ s, calls[1] }) do
      assert.are.equal(sipsess.SESSION_TERMINATED, sess.state)
      assert.are.equal(sipsess.SIGNALING_CLOSED, sess.signaling_state)
      assert.are.equal(call_id, sess.call_id) -- still readable
      for name, call in pairs({
        bye = function() return sess:bye() end,
        info = function() return sess:info("x", "text/plain") end,
        invite = function() return sess:invite(H.SDP, H.CT) end,
        update = function() return sess:update() end,
        message = function() return sess:message("m") end,
        notify = function() return sess:notify("n", "text/plain", "Event: x") end,
        prack = function() return sess:prack() end,
        refer = function() return sess:refer("sip:c@127.0.0.1:9") end,
        request = function() return sess:request("FOO") end,
        cancel = function() return sess:cancel() end,
        ack = function() return sess:ack() end,
        terminate = function() return sess:terminate() end,
        set_delegate = function() return sess:set_delegate({ on_bye = function() end }) end,
      }) do
        local ok, msg, code = call()
        assert.is_nil(ok, name)
        assert.are.equal(sipsess.ESTATE, code, name)
        assert.matches("ESTATE", msg)
      end
    end
    assert.are.equal(sipsess.TERM_LOCAL_BYE, s.term_cause)
  end)

  it("ua:close() ends every session with on_terminated (UA_SHUTDOWN); a closed UA returns ESTATE", function()
    local causes = {}
    local d, calls = H.answerer(function()
      return { on_terminated = function(_, _, c) causes[#causes + 1] = "b" .. c end }
    end)
    local net, a, b = H.mem_pair(d)
    local s = H.connect(a, b, calls, { on_terminated = function(_, _, c) causes[#causes + 1] = "a" .. c end })
    -- one more, still ringing
    local ringing = assert(a:invite(H.uri(b), H.SDP, H.CT, nil,
      { on_terminated = function(_, _, c) causes[#causes + 1] = "r" .. c end }))
    assert(b:set_delegate({ on_invite = function(_, _, r) assert(r:progress(180)); assert(r:keep()) end }))
    H.pump({ a, b }, function() return ringing.state == sipsess.SESSION_EARLY end)
    a:close()
    -- on_terminated ran inside close()
    table.sort(causes)
    assert.are.same({ "a" .. sipsess.TERM_UA_SHUTDOWN, "r" .. sipsess.TERM_UA_SHUTDOWN }, causes)
    assert.are.equal(sipsess.TERM_UA_SHUTDOWN, s.term_cause)
    assert.are.equal(sipsess.SESSION_TERMINATED, ringing.state)
    assert.are.equal(true, a.closed)
    a:close() -- twice is fine
    for name, call in pairs({
      listen = function() return a:listen("mem:0") end,
      step = function() return a:step(0) end,
      advance = function() return a:advance(1) end,
      process = function() return a:process() end,
      run = function() return a:run() end,
      stop = function() return a:stop() end,
      wake = function() return a:wake() end,
      invite = function() return a:invite(H.uri(b), H.SDP, H.CT) end,
      set_delegate = function() return a:set_delegate({}) end,
    }) do
      local ok, msg, code = call()
      assert.is_nil(ok, name)
      assert.are.equal(sipsess.ESTATE, code, name)
      assert.are.equal("string", type(msg), name)
    end
    local ok, _, code = s:info("x", "text/plain")
    assert.is_nil(ok)
    assert.are.equal(sipsess.ESTATE, code)
    assert.are.equal(0, a:port(0))
    assert.are.equal(0, a.listener_count)
    assert.is_nil(a:listener(0))
    assert.are.equal(-1, a.fd)
    -- closing told the peer: BYE for the confirmed call, CANCEL for the
    -- ringing one, so the callee's sessions do not hang
    H.run_for({ b }, 1000)
    assert.are.equal(sipsess.SESSION_TERMINATED, calls[1].state)
    assert.are.equal(sipsess.TERM_REMOTE_BYE, calls[1].term_cause)
    b:close()
    table.sort(causes)
    assert.are.same({ "a" .. sipsess.TERM_UA_SHUTDOWN, "b" .. sipsess.TERM_REMOTE_BYE,
      "r" .. sipsess.TERM_UA_SHUTDOWN }, causes)
  end)

  it("ua:close() from inside one of its callbacks takes effect when the loop call returns", function()
    local causes, inside = {}, {}
    local net = sipsess.Memnet()
    local b
    b = H.mem_ua(net, { delegate = H.answerer(function()
      return {
        on_info = function(_, session, request)
          b:close()
          -- still usable in this callback: the request can be answered
          inside.closed = b.closed
          inside.accept = request:accept("bye now", "text/plain")
          inside.state = session.state
        end,
        on_terminated = function(_, _, c) causes[#causes + 1] = c end,
      }
    end) })
    local a = H.mem_ua(net)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    local body
    assert(s:info("x", "text/plain", nil, function(_, r) body = r.body end))
    for _ = 1, 100 do
      assert(a:advance(5))
      local ok = b:advance(5)
      if b.closed then break end
      assert(ok)
    end
    assert.are.equal(false, inside.closed)
    assert.are.equal(0, inside.accept)
    assert.are.equal(sipsess.SESSION_CONFIRMED, inside.state)
    assert.are.equal(true, b.closed)
    assert.are.same({ sipsess.TERM_UA_SHUTDOWN }, causes)
    assert.truthy(H.pump({ a }, function() return body end))
    assert.are.equal("bye now", body)
    local ok, _, code = b:advance(5)
    assert.is_nil(ok)
    assert.are.equal(sipsess.ESTATE, code)
  end)

  it("a UA collected without close() ends its sessions from the collector", function()
    local causes = {}
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { delegate = H.answerer(function()
      return { on_terminated = function(_, _, c) causes[#causes + 1] = c end }
    end) })
    local weak = setmetatable({}, { __mode = "v" })
    do
      local a = H.mem_ua(net)
      weak.a = a
      local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil,
        { on_terminated = function(_, _, c) causes[#causes + 1] = c end }))
      H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end)
    end
    H.full_gc()
    assert.is_nil(weak.a)
    assert.are.same({ sipsess.TERM_UA_SHUTDOWN }, causes)
    b:close()
    assert.are.same({ sipsess.TERM_UA_SHUTDOWN, sipsess.TERM_UA_SHUTDOWN }, causes)
  end)

  it("the Memnet outlives its UAs", function()
    local b, a
    do
      local net = sipsess.Memnet()
      b = H.mem_ua(net, { delegate = H.answerer() })
      a = H.mem_ua(net)
    end
    H.full_gc() -- the net is referenced by the UAs
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT))
    assert.truthy(H.pump({ a, b }, function() return s.state == sipsess.SESSION_CONFIRMED end))
    a:close()
    b:close()
    H.full_gc()
  end)
end)

describe("coroutines", function()
  after_each(H.after_test)

  it("callbacks run inside the coroutine that drives the loop", function()
    local where = {}
    local function note(name)
      local co, main = coroutine.running()
      where[#where + 1] = { name, co, main }
    end
    local d, calls = H.answerer(function()
      note("on_invite")
      return { on_info = function(_, _, r) note("on_info"); assert(r:accept()) end,
        on_state_change = function() note("on_state_change") end }
    end)
    local net, a, b = H.mem_pair(d)
    local s = assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function() note("handler") end))
    local turns = 0
    local co = coroutine.create(function()
      while true do
        assert(a:advance(5))
        assert(b:step(0) and b:advance(5))
        turns = turns + 1
        coroutine.yield(turns)
      end
    end)
    local function drive(pred)
      for _ = 1, 400 do
        if pred() then return true end
        local ok, err = coroutine.resume(co)
        assert(ok, err)
      end
      return pred()
    end
    assert.truthy(drive(function() return s.state == sipsess.SESSION_CONFIRMED and calls[1] end))
    local st
    assert(s:info("x", "text/plain", nil, function(_, r) st = r.status end))
    assert.truthy(drive(function() return st end))
    assert.are.equal(200, st)
    assert.is_true(turns > 1)
    assert.is_true(#where >= 4)
    local names = {}
    for _, w in ipairs(where) do
      names[w[1]] = true
      assert.are.equal(co, w[2], w[1] .. " did not run in the coroutine")
      assert.is_false(w[3])
    end
    assert.is_true(names.on_invite and names.on_info and names.handler and names.on_state_change)
    -- the same UAs driven from the main thread afterwards: callbacks run there
    where = {}
    assert(s:info("y", "text/plain"))
    H.pump({ a, b }, function() return #where > 0 end)
    assert.is_true(where[1][3], "main thread")
  end)

  it("a callback that yields across the loop call is an error, not a crash", function()
    local errs = {}
    local net = sipsess.Memnet()
    local b = H.mem_ua(net, { error_handler = function(tb, name) errs[#errs + 1] = tb end,
      delegate = { on_invite = function(_, _, r)
        coroutine.yield("from a callback")
        assert(r:accept(H.SDP2, H.CT))
      end } })
    local a = H.mem_ua(net)
    local final
    assert(a:invite(H.uri(b), H.SDP, H.CT, nil, nil, function(_, r) final = r.status end))
    local co = coroutine.wrap(function()
      for _ = 1, 200 do assert(a:advance(5)); assert(b:advance(5)) end
      return "done"
    end)
    assert.are.equal("done", co())
    assert.are.equal(500, final)
    assert.are.equal(1, #errs)
    assert.matches("yield", errs[1], 1, true)
    assert.matches("stack traceback", errs[1], 1, true)
  end)
end)

describe("memory safety (valgrind)", function()
  after_each(H.after_test)
  local has_valgrind = os.execute("command -v valgrind >/dev/null 2>&1")
  local run = (has_valgrind and not H.sanitized) and it or pending

  run("close in a callback, dropped requests, objects used after close, UAs left open at exit", function()
    local script = H.dir .. "/host/valgrind_case.lua"
    local p = H.spawn({ "valgrind", "-q", "--error-exitcode=99", "lua5.4", "-e",
      ("package.cpath = %q .. ';' .. package.cpath"):format(package.cpath:match("^[^;]+")),
      script }, 60)
    assert.are.equal(0, p:wait(60), p:describe())
    assert.matches("valgrind case done", p:stdout(), 1, true)
  end)
end)
