-- giveback.lua - miltertest script: messages that never reach their end
-- give back what they counted. One login ("quitter") sends, on the
-- milter connections Sendmail would open:
--   1 MAIL and three RCPTs, then an abort (RSET), then on the same
--     connection a whole message of one recipient;
--   2 MAIL and two RCPTs, then the connection closes without an abort;
--   3 MAIL and one RCPT, then a new MAIL on the same connection.
-- The shell side then reads the login's counts: one message, one
-- recipient. Environment: RG_MILTER_SOCK (e.g. inet:1234@127.0.0.1).

local sock = os.getenv("RG_MILTER_SOCK")

local function fail(msg)
    io.stdout:write("not ok - " .. msg .. "\n") io.stdout:flush()
    error(msg)
end

local function ok(msg) io.stdout:write("ok - " .. msg .. "\n") io.stdout:flush() end

-- open: a connection from ip, through HELO
local function open(ip)
    local conn = mt.connect(sock, 20, 0.25)
    if conn == nil then fail("connect to " .. sock) end
    if mt.negotiate(conn, nil, nil, nil) ~= nil then fail("negotiate") end
    mt.macro(conn, SMFIC_CONNECT, "j", "mx.sendmail.test",
             "{daemon_name}", "MTA", "{client_addr}", ip)
    if mt.conninfo(conn, "client.test", ip) ~= nil then fail("conninfo") end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("connect reply for " .. ip) end
    if mt.helo(conn, "client.test") ~= nil then fail("helo") end
    return conn
end

-- mail: MAIL FROM of login and n recipients, each accepted
local function mail(conn, login, qid, n)
    mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", login,
             "{auth_type}", "LOGIN", "{mail_addr}", "someone@example.org")
    if mt.mailfrom(conn, "<someone@example.org>") ~= nil then fail("mailfrom") end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("MAIL of " .. qid) end
    for i = 1, n do
        mt.macro(conn, SMFIC_RCPT, "i", qid)
        if mt.rcptto(conn, "<r" .. i .. "@example.net>") ~= nil then fail("rcptto") end
        if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("RCPT " .. i .. " of " .. qid) end
    end
end

-- 1 abort, then a whole message on the same connection
local c = open("198.18.3.70")
mail(c, "quitter", "GBQ1", 3)
if mt.abort(c) ~= nil then fail("abort") end
mail(c, "quitter", "GBQ2", 1)
-- the body only when relayguard asked for it (a bytes rule), as an MTA does
if not mt.test_option(c, SMFIP_NOBODY) and
   mt.bodystring(c, "hello\r\n") ~= nil then fail("body") end
if mt.eom(c) ~= nil then fail("eom") end
local r = mt.getreply(c)
if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then fail("1: EOM of GBQ2") end
ok("1: an aborted message, then a whole one on the same connection")
mt.disconnect(c)

-- 2 the connection closes in the middle of a message
c = open("198.18.3.71")
mail(c, "quitter", "GBQ3", 2)
mt.disconnect(c)
ok("2: a connection closed after RCPT")

-- 3 a new MAIL FROM without an end or an abort of the one before
c = open("198.18.3.72")
mail(c, "quitter", "GBQ4", 1)
mail(c, "quitter", "GBQ5", 0)
mt.disconnect(c)
ok("3: a new MAIL FROM after an unfinished message")
