-- sendmail_macros.lua - miltertest script: relayguard-milter as Sendmail
-- drives it, with Sendmail's macro set ({client_addr}, {auth_authen},
-- {auth_type}, i, j, {daemon_name}) instead of Postfix's.
-- Environment: as mtlib.lua says.

local lib = dofile(os.getenv("RG_MTLIB"))
local fail, ok = lib.fail, lib.ok

-- session: one SMTP transaction as Sendmail reports it; returns the
-- connection and the reply to MAIL FROM.
local function session(ip, login, qid)
    local conn = lib.open(ip)

    return conn, lib.mail_from(conn, login, qid)
end

-- finish: RCPT, body, end of message; the reply to EOM
local function finish(conn, qid)
    mt.macro(conn, SMFIC_RCPT, "i", qid)
    if mt.rcptto(conn, "<victim@example.net>") ~= nil then fail("rcptto") end
    if mt.getreply(conn) ~= SMFIR_CONTINUE then fail("rcpt reply") end
    return lib.body_eom(conn)
end

-- 1 a first login from Brazil is accepted
local c, r = session("198.18.1.5", "smuser", "SMQ1")
if r ~= SMFIR_CONTINUE then fail("1: MAIL from BR") end
r = finish(c, "SMQ1")
if r ~= SMFIR_CONTINUE and r ~= SMFIR_ACCEPT then fail("1: EOM from BR") end
ok("1: first login accepted through Sendmail's macros")
mt.disconnect(c)

-- 2 a minute later from China: quarantined at end of message, with header
c, r = session("198.18.2.5", "smuser", "SMQ2")
if r ~= SMFIR_CONTINUE then fail("2: MAIL from CN") end
r = finish(c, "SMQ2")
if not mt.eom_check(c, MT_QUARANTINE) then fail("2: no quarantine") end
if not mt.eom_check(c, MT_HDRADD, "X-Relayguard") then fail("2: no header") end
local h = mt.getheader(c, "X-Relayguard", 0)
if h == nil or not string.find(h, "rule=impossible-travel", 1, true) then
    fail("2: header lacks the rule: " .. tostring(h))
end
ok("2: impossible travel quarantined (smfi_quarantine) with X-Relayguard")
mt.disconnect(c)

-- 3 a third and a fourth country: refused at MAIL FROM with 451 4.7.1
c, r = session("198.18.3.5", "smuser", "SMQ3")
finish(c, "SMQ3")
mt.disconnect(c)
c, r = session("198.18.4.5", "smuser", "SMQ4")
if r ~= SMFIR_REPLYCODE then fail("3: fourth country not refused at MAIL") end
ok("3: fourth country refused at MAIL FROM with a reply code")
mt.disconnect(c)

-- 4 hostile macros: a 900-byte login (miltertest cannot send a macro
-- much over 1 KiB) with CR/LF and control bytes
local evil = string.rep("A", 900) .. "\r\nQID: action=accept\027[31m"
c, r = session("198.18.5.5", evil, "SMQ5")
if r ~= SMFIR_CONTINUE then fail("4: hostile login not judged normally") end
r = finish(c, "SMQ5")
ok("4: a 900-byte login with CR/LF and ESC is judged")
mt.disconnect(c)

-- 5 no usable address (unknown family): never judged. The connect step
-- has no reply (SMFIP_NR_CONN): its message is accepted at MAIL FROM.
c = mt.connect(lib.sock, 20, 0.25)
if mt.negotiate(c, nil, nil, nil) ~= nil then fail("5: negotiate") end
if mt.conninfo(c, "local", "unspec") ~= nil then fail("5: conninfo") end
mt.macro(c, SMFIC_MAIL, "i", "SMQ7", "{auth_authen}", "smuser")
if mt.mailfrom(c, "<someone@example.org>") ~= nil then fail("5: mailfrom") end
if mt.getreply(c) ~= SMFIR_ACCEPT then fail("5: unknown family not accepted") end
ok("5: a client without an address is accepted, not judged")
mt.disconnect(c)

-- 6 the milter is still there
c, r = session("198.18.3.6", "other", "SMQ6")
if r ~= SMFIR_CONTINUE then fail("6: milter no longer answers") end
ok("6: the milter still answers")
mt.disconnect(c)
