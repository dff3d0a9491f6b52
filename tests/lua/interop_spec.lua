-- Lua UAs against the C reference UA (build/bin/sipsess-ua) over real
-- sockets on 127.0.0.1. Every subprocess runs under `timeout` and is
-- killed after its test (H.after_test).
local H = require "helper"
local sipsess = H.sipsess

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

describe("Lua vs the C sipsess-ua", function()
  after_each(H.after_test)
  for _, tr in ipairs({ "udp", "tcp" }) do
    it("Lua caller -> sipsess-ua --answer (" .. tr .. ")", function()
      local c = H.spawn({ H.UA, "--listen", tr .. ":127.0.0.1:0", "--print-ports", "--answer",
        "--count", "1", "--log-level", "warn" }, 20)
      local port = c:port(tr)
      assert.is_number(port, c:describe())
      local ua = H.new_ua { listen = tr .. ":127.0.0.1:0" }
      H.defer(function() ua:close() end)
      local statuses, events = {}, {}
      local uri = ("sip:ref@127.0.0.1:%d"):format(port) .. (tr == "tcp" and ";transport=tcp" or "")
      local s = assert(ua:invite(uri, H.SDP, H.CT, nil, {
        on_terminated = function(_, _, cause) events[#events + 1] = "end " .. cause end,
      }, function(_, resp) statuses[#statuses + 1] = resp.status end))
      assert.truthy(H.spin({ ua }, function() return s.state == sipsess.SESSION_CONFIRMED end, 5),
        c:describe())
      assert.is_true(has(statuses, 180))
      assert.are.equal(200, statuses[#statuses])
      -- the C UA answered our offer with an SDP of its own
      local answer = s:body(sipsess.BODY_REMOTE_ANSWER)
      assert.matches("^v=0\r\n", answer)
      assert.matches("m=audio %d+ RTP/AVP", answer)
      -- in-dialog: INFO and MESSAGE get 200 from the C UA
      local info, msg
      assert(s:info("x", "application/x-test", nil, function(_, r) info = r.status end))
      assert(s:message("hello", nil, nil, function(_, r) msg = r.status end))
      assert.truthy(H.spin({ ua }, function() return info and msg end, 5))
      assert.are.equal(200, info)
      assert.are.equal(200, msg)
      local bye
      assert(s:bye(nil, { on_accept = function(_, _, r) bye = r.status end }))
      assert.truthy(H.spin({ ua }, function() return bye end, 5))
      assert.are.equal(200, bye)
      assert.are.same({ "end " .. sipsess.TERM_LOCAL_BYE }, events)
      assert.are.equal(0, c:wait(10, function() ua:step(10) end), c:describe())
      assert.matches("calls attempted 1 ok 1 failed 0", c:stdout())
    end)
  end

  it("sipsess-ua re-INVITEs and REFER progress reach the Lua caller", function()
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--print-ports", "--answer",
      "--count", "1", "--reinvite-after", "20" }, 20)
    local port = c:port()
    assert.is_number(port, c:describe())
    local ua = H.new_ua { listen = "udp:127.0.0.1:0" }
    H.defer(function() ua:close() end)
    local reinvites, notifies, refer_status = {}, {}, nil
    local s = assert(ua:invite(("sip:ref@127.0.0.1:%d"):format(port), H.SDP, H.CT, nil, {
      on_invite = function(_, session, request)
        reinvites[#reinvites + 1] = request.body
        assert(request:accept(H.SDP2, H.CT))
      end,
      on_notify = function(_, session, request)
        notifies[#notifies + 1] = request.sipfrag_status
        assert.are.equal("message/sipfrag", request.content_type:match("^[^;]+"))
      end,
    }))
    assert.truthy(H.spin({ ua }, function() return #reinvites > 0 end, 5), c:describe())
    assert.matches("^v=0\r\n", reinvites[1])
    -- REFER: 202 from the C UA, then NOTIFYs 100 and 200 (sipfrag)
    assert(s:refer("sip:nobody@127.0.0.1:9", nil, function(_, r) refer_status = r.status end))
    assert.truthy(H.spin({ ua }, function() return has(notifies, 200) end, 5), c:describe())
    assert.are.equal(202, refer_status)
    assert.are.equal(100, notifies[1])
    assert(s:bye())
    assert.are.equal(0, c:wait(10, function() ua:step(10) end), c:describe())
  end)

  it("sipsess-ua --call --count 3 -> Lua UAS", function()
    local ua = H.new_ua { listen = "udp:127.0.0.1:0" }
    H.defer(function() ua:close() end)
    local ended, offers = {}, {}
    assert(ua:set_delegate({
      on_invite = function(_, session, request)
        offers[#offers + 1] = request.body
        assert(session:set_delegate({
          on_terminated = function(_, _, cause) ended[#ended + 1] = cause end,
        }))
        assert(request:progress(180))
        assert(request:accept(H.SDP2, H.CT))
      end,
    }))
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--call", H.uri(ua, "lua"),
      "--count", "3", "--rate", "50" }, 20)
    local st = c:wait(15, function() ua:step(5) end)
    assert.are.equal(0, st, c:describe())
    assert.matches("calls attempted 3 ok 3 failed 0", c:stdout())
    H.spin({ ua }, function() return #ended == 3 end, 2)
    assert.are.same({ sipsess.TERM_REMOTE_BYE, sipsess.TERM_REMOTE_BYE, sipsess.TERM_REMOTE_BYE }, ended)
    assert.are.equal(3, #offers)
    assert.matches("^v=0\r\n", offers[1])
  end)

  it("a Lua UAS that rejects makes sipsess-ua --call fail", function()
    local ua = H.new_ua { listen = "udp:127.0.0.1:0", delegate = {
      on_invite = function(_, _, request) assert(request:reject(603, "Lua Declines")) end } }
    H.defer(function() ua:close() end)
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--call", H.uri(ua, "lua"),
      "--count", "1" }, 20)
    assert.are.equal(1, c:wait(15, function() ua:step(5) end), c:describe())
    assert.matches("calls attempted 1 ok 0 failed 1", c:stdout())
    assert.matches("603", c:stderr())
  end)

  it("UA delegate on_request answers sipsess-ua --options", function()
    local seen = {}
    local answer = 200
    local ua = H.new_ua { listen = "udp:127.0.0.1:0", delegate = {
      on_request = function(_, request)
        seen[#seen + 1] = request.method_name
        assert.are.equal(sipsess.METHOD_OPTIONS, request.method)
        assert.is_nil(request:session())
        if answer == 200 then assert(request:accept())
        else assert(request:reply(answer, "Lua Says No")) end
      end } }
    H.defer(function() ua:close() end)
    local c = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--options", H.uri(ua, "lua"),
      "--count", "2" }, 20)
    assert.are.equal(0, c:wait(10, function() ua:step(5) end), c:describe())
    assert.matches("options sent 2 ok 2 failed 0", c:stdout())
    assert.are.same({ "OPTIONS", "OPTIONS" }, seen)
    -- the answer is the callback's: a 403 makes the C UA count failures
    answer = 403
    local c2 = H.spawn({ H.UA, "--listen", "udp:127.0.0.1:0", "--options", H.uri(ua, "lua"),
      "--count", "1" }, 20)
    assert.are.equal(1, c2:wait(10, function() ua:step(5) end), c2:describe())
    assert.matches("OPTIONS failed: 403 Lua Says No", c2:stderr())
  end)
end)
