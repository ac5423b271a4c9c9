-- milter_load.lua - miltertest load for bench_milter_cpu.sh and
-- bench_milter_pair.sh: RG_MSGS messages (default 2000), one connection
-- each as Postfix opens them, an authenticated login (2,000 of them, each
-- from its own address) with one recipient, through end of message.
-- Environment: RG_MILTER_SOCK, RG_MSGS, RG_BASE (offset of the queue
-- ids); with RG_MILTER_SOCK2 too, each message goes to RG_MILTER_SOCK
-- and then, the same message, to RG_MILTER_SOCK2 (two milter instances
-- fed in lock step).
local sock = os.getenv("RG_MILTER_SOCK")
local sock2 = os.getenv("RG_MILTER_SOCK2")
local n = tonumber(os.getenv("RG_MSGS") or "2000")
local base = tonumber(os.getenv("RG_BASE") or "0")

-- message - message i (1..n) through the milter on socket s
local function message(s, i)
    local k = (base + i) % 2000
    local ip = "198.18." .. (1 + k % 12) .. "." .. (1 + math.floor(k / 12) % 250)
    local conn = mt.connect(s, 20, 0.25)
    if conn == nil then error("connect") end
    if mt.negotiate(conn, nil, nil, nil) ~= nil then error("negotiate") end
    mt.macro(conn, SMFIC_CONNECT, "j", "mx.test", "{daemon_name}", "MTA", "{client_addr}", ip)
    if mt.conninfo(conn, "client.test", ip) ~= nil then error("conninfo") end
    mt.getreply(conn)
    if mt.helo(conn, "client.test") ~= nil then error("helo") end
    local qid = string.format("B%09d", base + i)
    mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", "user" .. k, "{auth_type}", "LOGIN")
    if mt.mailfrom(conn, "<user" .. k .. "@example.org>") ~= nil then error("mailfrom") end
    mt.getreply(conn)
    mt.macro(conn, SMFIC_RCPT, "i", qid)
    if mt.rcptto(conn, "<r@example.net>") ~= nil then error("rcptto") end
    mt.getreply(conn)
    -- the body only when the milter asked for it (a bytes rule), as Postfix does
    if not mt.test_option(conn, SMFIP_NOBODY) and
       mt.bodystring(conn, "hello\r\n") ~= nil then error("body") end
    if mt.eom(conn) ~= nil then error("eom") end
    mt.getreply(conn)
    mt.disconnect(conn)
end

for i = 1, n do
    message(sock, i)
    if sock2 ~= nil and sock2 ~= "" then message(sock2, i) end
end
