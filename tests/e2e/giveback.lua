-- giveback.lua - miltertest script: messages that never reach their end
-- give back what they counted. One login ("quitter") sends, on the
-- milter connections Sendmail would open:
--   1 MAIL and three RCPTs, then an abort (RSET), then on the same
--     connection a whole message of one recipient;
--   2 MAIL and two RCPTs, then the connection closes without an abort;
--   3 MAIL and one RCPT, then a new MAIL on the same connection.
-- The shell side then reads the login's counts: one message, one
-- recipient. Environment: as mtlib.lua says.

local lib = dofile(os.getenv("RG_MTLIB"))
local fail, ok, open = lib.fail, lib.ok, lib.open

-- mail: MAIL FROM of login and n recipients, each accepted
local function mail(conn, login, qid, n)
    if lib.mail_from(conn, login, qid) ~= SMFIR_CONTINUE then fail("MAIL of " .. qid) end
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
local r = lib.body_eom(c)
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
