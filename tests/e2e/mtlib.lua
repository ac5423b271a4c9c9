-- mtlib.lua - what the miltertest scripts share: their result lines, and
-- a connection and a MAIL FROM with Sendmail's macros. A script loads it
-- with dofile(os.getenv("RG_MTLIB")) (rg_miltertest sets RG_MTLIB, and
-- RG_MILTER_SOCK, e.g. inet:1234@127.0.0.1).

local M = {}

M.sock = os.getenv("RG_MILTER_SOCK")

-- fail: a "not ok" line, then the script stops
function M.fail(msg)
    io.stdout:write("not ok - " .. msg .. "\n") io.stdout:flush()
    error(msg)
end

-- ok: an "ok" line
function M.ok(msg) io.stdout:write("ok - " .. msg .. "\n") io.stdout:flush() end

-- open: a connection from ip, through HELO
function M.open(ip)
    local conn = mt.connect(M.sock, 20, 0.25)
    if conn == nil then M.fail("connect to " .. M.sock) end
    if mt.negotiate(conn, nil, nil, nil) ~= nil then M.fail("negotiate") end
    mt.macro(conn, SMFIC_CONNECT, "j", "mx.sendmail.test",
             "{daemon_name}", "MTA", "{client_addr}", ip)
    if mt.conninfo(conn, "client.test", ip) ~= nil then M.fail("conninfo") end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then M.fail("connect reply for " .. ip) end
    if mt.helo(conn, "client.test") ~= nil then M.fail("helo") end
    return conn
end

-- mail_from: MAIL FROM of login in message qid; the reply to it
function M.mail_from(conn, login, qid)
    mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", login,
             "{auth_type}", "LOGIN", "{mail_addr}", "someone@example.org")
    if mt.mailfrom(conn, "<someone@example.org>") ~= nil then M.fail("mailfrom") end
    return mt.getreply(conn)
end

-- body_eom: the body, then the end of message; the reply to it.
-- relayguard asks for no headers, and for the body only when a bytes
-- rule exists (SMFIP_NOBODY otherwise): the MTA sends what it asked for.
function M.body_eom(conn)
    if not mt.test_option(conn, SMFIP_NOBODY) and
       mt.bodystring(conn, "hello\r\n") ~= nil then M.fail("body") end
    if mt.eom(conn) ~= nil then M.fail("eom") end
    return mt.getreply(conn)
end

return M
