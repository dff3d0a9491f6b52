-- The embeddable host (build/bin/sipsess-lua, SIPSESS_LUA_HOST) running the
-- scripts of tests/lua/host/, against the C sipsess-ua where a peer is
-- needed. Exit statuses and output are checked; every process runs under
-- `timeout` and is killed after its test (H.after_test).
local H = require "helper"

describe("sipsess-lua host", function()
  after_each(H.after_test)

  it("a host UAS answers sipsess-ua --call and stops itself after N calls", function()
    local host = H.host("uas.lua", { 3 })
    local port = tonumber(host:wait_output("listening udp:127%.0%.0%.1:(%d+)", 10))
    assert.is_number(port, host:describe())
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--call",
      ("sip:host@127.0.0.1:%d"):format(port), "--count", "3", "--rate", "50" }, 20)
    assert.are.equal(0, c:wait(15), c:describe())
    assert.matches("calls attempted 3 ok 3 failed 0", c:stdout())
    assert.are.equal(0, host:wait(10), host:describe())
    assert.matches("calls 3 ok 3", host:stdout())
  end)

  it("a host caller against sipsess-ua --answer", function()
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--print-ports", "--answer",
      "--count", "1" }, 20)
    local port = c:port()
    assert.is_number(port, c:describe())
    local host = H.host("caller.lua", { ("sip:ref@127.0.0.1:%d"):format(port) })
    assert.are.equal(0, host:wait(15), host:describe())
    assert.are.equal("accepted 200\ninfo 200\nterminated LocalBye\n", host:stdout())
    assert.are.equal(0, c:wait(10), c:describe())
    assert.matches("calls attempted 1 ok 1 failed 0", c:stdout())
  end)

  it("a host caller whose call is refused exits 1", function()
    -- the peer: a host UAS whose first on_invite raises (500)
    local uas = H.host("raising.lua", { 1 })
    local port = tonumber(uas:wait_output("listening udp:127%.0%.0%.1:(%d+)", 10))
    assert.is_number(port, uas:describe())
    local host = H.host("caller.lua", { ("sip:ref@127.0.0.1:%d"):format(port) })
    assert.are.equal(1, host:wait(15), host:describe())
    assert.matches("^rejected 500\n", host:stdout())
  end)

  it("a callback that raises is reported with its traceback; the host keeps serving", function()
    local host = H.host("raising.lua", { 1 })
    local port = tonumber(host:wait_output("listening udp:127%.0%.0%.1:(%d+)", 10))
    assert.is_number(port, host:describe())
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--call",
      ("sip:host@127.0.0.1:%d"):format(port), "--count", "2", "--rate", "50",
      "--max-concurrent", "1" }, 20)
    assert.are.equal(1, c:wait(15), c:describe()) -- the first call got 500
    assert.matches("calls attempted 2 ok 1 failed 1", c:stdout())
    assert.are.equal(0, host:wait(10), host:describe())
    assert.matches("invites 2 ended 1", host:stdout())
    local err = host:stderr()
    assert.matches("error in callback on_invite: [^\n]*deliberate failure in on_invite #1", err)
    assert.matches("stack traceback:", err, 1, true)
    assert.matches("raising.lua:%d+", err)
  end)

  it("a script with a syntax error exits 1 with the parser's message", function()
    local host = H.host("syntax_error.lua")
    assert.are.equal(1, host:wait(10), host:describe())
    assert.matches("sipsess%-lua: [^\n]*syntax_error%.lua:%d+:", host:stderr())
    assert.are.equal("", host:stdout())
  end)

  it("a failing main exits 1 with the message and traceback", function()
    local host = H.host("failing_main.lua")
    assert.are.equal(1, host:wait(10), host:describe())
    local err = host:stderr()
    assert.matches("sipsess%-lua: main: [^\n]*failing_main%.lua:%d+: main failed on purpose", err)
    assert.matches("stack traceback", err, 1, true)
  end)

  it("--timeout ends a script that never stops (exit 1)", function()
    local t0 = H.now()
    local host = H.host("forever.lua", nil, { timeout = 1 })
    assert.are.equal(1, host:wait(10), host:describe())
    local took = H.now() - t0
    assert.is_true(took >= 0.9 and took < 5, ("took %.2f s"):format(took))
    assert.matches("timeout after 1.0 s", host:stderr(), 1, true)
    assert.matches("finish ran", host:stdout(), 1, true)
  end)

  it("SIGTERM ends the loop, finish runs, exit 0", function()
    local host = H.host("forever.lua")
    assert.truthy(host:wait_output("(running)", 10), host:describe())
    H.system.sleep(0.2)
    assert.is_nil(host:status())
    -- the pid is the `timeout` wrapper: it passes SIGTERM on to the host
    os.execute(("kill -TERM %d"):format(host.pid))
    assert.are.equal(0, host:wait(10), host:describe())
    assert.matches("finish ran", host:stdout(), 1, true)
  end)

  it("finish() sets the exit status; a script without app table runs by itself", function()
    for _, case in ipairs({ { "0", 0 }, { "7", 7 }, { "false", 1 } }) do
      local host = H.host("status.lua", { case[1] })
      assert.are.equal(case[2], host:wait(10), host:describe())
    end
    local host = H.host("plain.lua")
    assert.are.equal(0, host:wait(10), host:describe())
    assert.matches("^plain Confirmed %d+%.%d+%.%d+", host:stdout())
  end)

  it("bad command lines", function()
    local none = H.spawn({ H.HOST }, 10)
    assert.are.equal(2, none:wait(10))
    assert.matches("usage: sipsess%-lua", none:stderr())
    local missing = H.host("does_not_exist.lua")
    assert.are.equal(1, missing:wait(10))
    assert.matches("does_not_exist.lua", missing:stderr(), 1, true)
  end)
end)
