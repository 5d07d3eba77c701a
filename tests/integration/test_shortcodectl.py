"""test_shortcodectl.py -- shortcodectl against a real redis-server: CSV
imports write exactly the keys of docs/contracts.md, a bad file imports nothing,
--skip-bad, BOM and CRLF, show and events output, exit codes, an
unreachable or silent Redis, a 200,000-row import; push (one text or a file
of them into mt:push, checked as the daemon checks them) and status."""
import calendar
import re
import os
import socket
import subprocess
import threading
import time

import ctl_env
import harness

CTL = ctl_env.CTL


class ShortcodectlTest(ctl_env.CtlEnv):
    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    # ---- import ----------------------------------------------------------

    def test_import_writes_exactly_the_documented_keys(self):
        cat = self.write("cat.csv",
                         'code,name,price_fen,provider,kind\n'
                         '1001,彩铃,500,CMCC,\n'
                         '1002,"天气预报, 每日\n早报",50,"ACME ""Weather""",monthly\n'
                         'G-1_x,游戏包,1,,once\n')
        rc, out, err = self.ctl("import", "catalogue", cat)
        self.assertEqual(rc, 0, err)
        self.assertIn("imported 3 catalogue rows", err)
        self.assertEqual(self.r.hgetall("vas:svc:1001"),
                         {"name": "彩铃", "price_fen": "500", "provider": "CMCC", "kind": "monthly"})
        self.assertEqual(self.r.hgetall("vas:svc:1002"),
                         {"name": "天气预报, 每日\n早报", "price_fen": "50",
                          "provider": 'ACME "Weather"', "kind": "monthly"})
        self.assertEqual(self.r.hgetall("vas:svc:G-1_x"),
                         {"name": "游戏包", "price_fen": "1", "provider": "", "kind": "once"})

        subs = self.write("subs.csv",
                          "msisdn,code,since\n"
                          "+8613800138000,1001,1700000000\n"
                          "8613800138000,1002,1600000000\n"
                          "13900139000,1001,\n"
                          "8612345,1001,0042\n")
        before = int(time.time())
        rc, out, err = self.ctl("import", "subscriptions", subs)
        after = int(time.time())
        self.assertEqual(rc, 0, err)
        self.assertIn("imported 4 subscriptions rows", err)
        self.assertEqual(self.r.hgetall("sub:{13800138000}:vas"),
                         {"1001": "1700000000", "1002": "1600000000"})
        since = int(self.r.hgetall("sub:{13900139000}:vas")["1001"])
        self.assertTrue(before <= since <= after, since)
        # "86" + 5 digits is not a prefix + 11 digits: kept as it is.
        self.assertEqual(self.r.hgetall("sub:{8612345}:vas"), {"1001": "42"})
        self.assertEqual(self.r.keys(), ["sub:{13800138000}:vas", "sub:{13900139000}:vas",
                                         "sub:{8612345}:vas", "vas:catalogue", "vas:svc:1001",
                                         "vas:svc:1002", "vas:svc:G-1_x"])
        for k in self.r.keys():
            self.assertEqual(self.r("TYPE", k), "set" if k == "vas:catalogue" else "hash")
        self.assertEqual(sorted(self.r("SMEMBERS", "vas:catalogue")), ["1001", "1002", "G-1_x"])
        self.assertEqual(out, "")

    def test_subscriptions_with_confirmation_references(self):
        # The optional conf column: a reference goes to sub:{M}:conf, an
        # empty one leaves it alone (a confirmation the daemon recorded stays).
        self.r("HSET", "sub:{13900139000}:conf", "1002", "DAEMON-7")
        subs = self.write("subs.csv",
                          "msisdn,code,since,conf\n"
                          "13800138000,1001,1700000000,BOSS-2023-0001\n"
                          "13800138000,1002,1600000000,\n"
                          "+8613900139000,1002,1600000000,\n"
                          "13900139000,1003,1600000000,确认单 42\n")
        rc, _, err = self.ctl("import", "subscriptions", subs)
        self.assertEqual(rc, 0, err)
        self.assertIn("imported 4 subscriptions rows", err)
        self.assertEqual(self.r.hgetall("sub:{13800138000}:conf"), {"1001": "BOSS-2023-0001"})
        self.assertEqual(self.r.hgetall("sub:{13900139000}:conf"),
                         {"1002": "DAEMON-7", "1003": "确认单 42"})
        self.assertEqual(self.r.hgetall("sub:{13800138000}:vas"),
                         {"1001": "1700000000", "1002": "1600000000"})
        # A bad reference is a bad row: nothing imported.
        self.r("FLUSHALL")
        bad = self.write("bad.csv", "msisdn,code,conf\n"
                                    "13800138000,1001,ok\n"
                                    '13800138000,1002,"line\nbreak"\n'
                                    "13800138000,1003,%s\n" % ("x" * 65))
        rc, _, err = self.ctl("import", "subscriptions", bad)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.r("DBSIZE"), 0)
        self.assertIn("%s:3: conf" % bad, err)
        self.assertIn("control character (LF", err)
        self.assertIn("%s:5: conf" % bad, err)
        self.assertIn("longer than 64 bytes", err)

    def test_columns_in_any_order_without_optional_ones(self):
        cat = self.write("cat.csv", "PRICE_FEN,Code,name\n0,free,免费业务\n")
        rc, _, err = self.ctl("import", "catalogue", cat)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.r.hgetall("vas:svc:free"),
                         {"name": "免费业务", "price_fen": "0", "provider": "", "kind": "monthly"})

    BAD_CATALOGUE = (b'code,name,price_fen\n'                     # 1
                     b'2001,ok,100\n'                             # 2
                     b'2002,"multi, line\nname",7\n'              # 3-4: good, spans two lines
                     b'2003,bad price,5.00\n'                     # 5
                     b'2004,missing column\n'                     # 6
                     b'2005,\xff\xfebad,3\n'                      # 7: not UTF-8
                     b'2006,"x"y,1\n'                             # 8: text after a quote
                     b',no code,1\n'                              # 9
                     b'2009,negative,-1\n'                        # 10
                     b'20/10,slash,1\n'                           # 11
                     b'2011,ok too,0\n')                          # 12

    def test_bad_rows_import_nothing(self):
        path = self.write("bad.csv", self.BAD_CATALOGUE)
        rc, out, err = self.ctl("import", "catalogue", path)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.r("DBSIZE"), 0)
        lines = [l for l in err.splitlines() if l.startswith(path + ":") and ": warning:" not in l]
        self.assertIn(path + ":3: warning: code 2002: name", err)   # the LF in its name
        self.assertEqual([l.split(":")[1] for l in lines[:7]],
                         ["5", "6", "7", "8", "9", "10", "11"], err)
        self.assertIn(path + ':5: price_fen "5.00" is not a non-negative integer', err)
        self.assertIn(path + ":6: 2 fields, but the header has 3", err)
        self.assertIn(path + ":7: name", err)
        self.assertIn("not valid UTF-8", err)
        self.assertIn("7 of 10 rows are bad; nothing imported", err)

    def test_bad_subscriptions_import_nothing(self):
        path = self.write("subs.csv", "msisdn,code,since\n"
                                      "13800138000,1001,1\n"
                                      "1380013800x,1001,1\n"
                                      "1234,1001,1\n"
                                      "+8613800138000,bad code,1\n"
                                      "13800138000,1001,yesterday\n"
                                      "+1 555 0100,1001,1\n")
        rc, _, err = self.ctl("import", "subscriptions", path)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.r("DBSIZE"), 0)
        for line in ("3: msisdn", "4: msisdn", "5: code", "6: since", "7: msisdn"):
            self.assertIn("%s:%s" % (path, line), err)

    def test_skip_bad_imports_the_good_rows(self):
        path = self.write("bad.csv", self.BAD_CATALOGUE)
        rc, _, err = self.ctl("import", "--skip-bad", "catalogue", path)
        self.assertEqual(rc, 3, err)
        self.assertEqual(self.r.keys(), ["vas:catalogue", "vas:svc:2001", "vas:svc:2002",
                                         "vas:svc:2011"])
        self.assertEqual(self.r.hgetall("vas:svc:2002")["name"], "multi, line\nname")
        self.assertIn("imported 3 catalogue rows", err)
        self.assertIn("skipped 7 bad rows", err)

    def test_catalogue_set_kept_and_codes_not_in_the_file_listed(self):
        # Issue 8 item 11: the daemon reads vas:catalogue; a code that a
        # later file no longer has stays (it may still be paid for) and is
        # named, with how to withdraw it.
        one = self.write("one.csv", "code,name,price_fen\nA1,a,1\nB2,b,2\nC3,c,3\n")
        self.assertEqual(self.ctl("import", "catalogue", one)[0], 0)
        two = self.write("two.csv", "code,name,price_fen\nA1,a,10\nD4,d,4\n")
        rc, out, err = self.ctl("import", "catalogue", two)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(self.r("SMEMBERS", "vas:catalogue")), ["A1", "B2", "C3", "D4"])
        self.assertEqual(self.r.hgetall("vas:svc:A1")["price_fen"], "10")
        self.assertRegex(err, r"two\.csv: 2 codes in vas:catalogue are not in this file; kept: "
                              r"(B2 C3|C3 B2) \(to withdraw one: SREM vas:catalogue CODE, then "
                              r"DEL vas:svc:CODE\)")
        self.assertIn("imported 2 catalogue rows", err)
        # No scratch set left behind.
        self.assertEqual(self.r.keys(), ["vas:catalogue", "vas:svc:A1", "vas:svc:B2",
                                         "vas:svc:C3", "vas:svc:D4"])

    def test_control_characters_in_names_are_warned_about(self):
        # Issue 8 item 7 (import side): imported, but each is named with
        # FILE:LINE, the code and which character.
        path = self.write("ctl.csv", 'code,name,price_fen,provider\n'
                                     '1,"多行\n名字",1,p\n'
                                     '2,ok,1,"SP\tX"\n'
                                     '3,"\x1b[31mred",1,\n'
                                     '4,del\x7f,1,\n'
                                     '5,c1\u0085x,1,\n'
                                     '6,fine,1,"also fine"\n'
                                     '7,"cr\r",1,\n')
        rc, out, err = self.ctl("import", "catalogue", path)
        self.assertEqual(rc, 0, err)
        for line, code, col, cp, name, at in (
                (2, 1, "name", "000A", "LF", 3), (4, 2, "provider", "0009", "TAB", 3),
                (5, 3, "name", "001B", "ESC", 1), (6, 4, "name", "007F", "DEL", 4),
                (7, 5, "name", "0085", "C1", 3), (9, 7, "name", "000D", "CR", 3)):
            self.assertRegex(err, r"%s:%d: warning: code %d: %s \".*\" holds a control character "
                                  r"U\+%s \(%s\) at character %d\n"
                             % (path, line, code, col, cp, name, at))
        self.assertNotIn(":8: warning", err)   # row 6 (line 8) is clean
        self.assertIn("6 rows hold control characters", err)
        self.assertIn("imported 7 catalogue rows", err)
        self.assertEqual(self.r.hgetall("vas:svc:1")["name"], "多行\n名字")

    def test_index_catalogue_builds_the_set_from_the_keyspace(self):
        # A keyspace written before vas:catalogue existed (or by another
        # feed): built once, offline.
        for code in ("X1", "X2", "X3"):
            self.r("HSET", "vas:svc:" + code, "name", code, "price_fen", 1)
        self.r("SET", "vas:svc:NOTAHASH", "x")
        self.r("HSET", "sub:{13800138000}:vas", "X1", 1)
        self.r("SADD", "vas:catalogue", "GONE")
        rc, out, err = self.ctl("index-catalogue")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(self.r("SMEMBERS", "vas:catalogue")), ["GONE", "X1", "X2", "X3"])
        self.assertIn('vas:catalogue: member "GONE" has no vas:svc:GONE hash', err)
        self.assertRegex(err, r"indexed 3 vas:svc:\* hashes into vas:catalogue at 127\.0\.0\.1:\d+ "
                              r"\(3 new\) with \d+ SCAN calls")
        self.assertEqual(self.ctl("index-catalogue", "extra")[0], 2)

    def test_skip_bad_with_nothing_bad_exits_0(self):
        path = self.write("ok.csv", "code,name,price_fen\n1,a,1\n")
        rc, _, err = self.ctl("import", "catalogue", "--skip-bad", path)
        self.assertEqual(rc, 0, err)

    def test_at_most_20_bad_rows_listed(self):
        path = self.write("bad.csv", "code,name,price_fen\n" + "x,y,z\n" * 30 + "ok,fine,1\n")
        rc, _, err = self.ctl("import", "catalogue", path)
        self.assertEqual(rc, 1, err)
        self.assertEqual(err.count("price_fen \"z\""), 20)
        self.assertIn("... and 10 more bad rows", err)
        self.assertIn("30 of 31 rows are bad", err)
        self.assertEqual(self.r("DBSIZE"), 0)

    def test_bom_and_crlf(self):
        path = self.write("win.csv", b"\xef\xbb\xbfcode,name,price_fen\r\n"
                                     b"3001,\xe5\xbd\xa9\xe9\x93\x83,100\r\n"
                                     b'3002,"two\r\nlines",0\r\n')
        rc, _, err = self.ctl("import", "catalogue", path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.r.hgetall("vas:svc:3001")["name"], "彩铃")
        self.assertEqual(self.r.hgetall("vas:svc:3001")["price_fen"], "100")
        self.assertEqual(self.r.hgetall("vas:svc:3002")["name"], "two\r\nlines")

    def test_header_problems_stop_everything(self):
        cases = {"unknown.csv": ("code,nam,price_fen\n1,a,1\n", 'unknown column "nam"'),
                 "missing.csv": ("code,name\n1,a\n", 'missing column "price_fen"'),
                 "repeated.csv": ("code,name,price_fen,name\n1,a,1,b\n", 'repeated column "name"'),
                 "noheader.csv": ("1001,彩铃,500\n", 'unknown column "1001"'),
                 "empty.csv": ("", "empty file")}
        for name, (text, msg) in cases.items():
            path = self.write(name, text)
            rc, _, err = self.ctl("import", "--skip-bad", "catalogue", path)
            self.assertEqual(rc, 1, name + ": " + err)
            self.assertIn(msg, err, name)
        self.assertEqual(self.r("DBSIZE"), 0)

    def test_unterminated_quote_is_reported_where_it_opens(self):
        path = self.write("q.csv", 'code,name,price_fen\n1,a,1\n2,"never closed,1\n3,c,1\n')
        rc, _, err = self.ctl("import", "catalogue", path)
        self.assertEqual(rc, 1, err)
        self.assertIn(path + ":3: quoted field not closed", err)
        self.assertEqual(self.r("DBSIZE"), 0)

    def test_redis_error_replies_are_reported_per_row(self):
        self.r("SET", "sub:{13800138001}:vas", "not a hash")
        path = self.write("s.csv", "msisdn,code\n13800138000,1\n13800138001,1\n13800138002,1\n")
        rc, _, err = self.ctl("import", "subscriptions", path)
        self.assertEqual(rc, 1, err)
        self.assertIn(path + ":3: redis: WRONGTYPE", err)
        self.assertIn("imported 2 subscriptions rows", err)
        self.assertIn("1 rows refused by redis", err)

    def test_missing_file_and_directory(self):
        rc, _, err = self.ctl("import", "catalogue", os.path.join(self.dir, "nope.csv"))
        self.assertEqual(rc, 2, err)
        self.assertIn("nope.csv", err)
        rc, _, err = self.ctl("import", "catalogue", self.dir)
        self.assertEqual(rc, 2, err)

    def test_large_import(self):
        n = 200000
        path = os.path.join(self.dir, "big.csv")
        with open(path, "w") as f:
            f.write("msisdn,code,since\n")
            for i in range(n):
                f.write("%d,%d,%d\n" % (13000000000 + i // 2, 1000 + i % 2, 1600000000 + i))
        t0 = time.monotonic()
        rc, _, err = self.ctl("import", "--progress", "subscriptions", path, timeout=120)
        dt = time.monotonic() - t0
        self.assertEqual(rc, 0, err)
        print("\n  %d rows in %.2f s: %.0f rows/s" % (n, dt, n / dt))
        self.assertIn("imported %d subscriptions rows" % n, err)
        self.assertEqual(self.r("DBSIZE"), n // 2)
        self.assertEqual(self.r.hgetall("sub:{13000099999}:vas"),
                         {"1000": str(1600000000 + 199998), "1001": str(1600000000 + 199999)})

    # ---- show and events -------------------------------------------------

    def fill_subscriber(self):
        m = "13800138000"
        for code, name, fen in (("1001", "彩铃", 500), ("1002", "天气预报", 50), ("1003", "游戏包", 1)):
            self.r("HSET", "vas:svc:" + code, "name", name, "price_fen", fen, "provider", "p",
                   "kind", "monthly")
        self.r("HSET", "sub:{%s}:vas" % m, "1001", 1700000000, "1002", 1600000000,
               "1003", 1650000000, "9999", 1690000000)
        self.r("HSET", "sub:{%s}:conf" % m, "1001", "CONF-1")
        self.r("HSET", "acct:{%s}" % m, "balance_fen", 1234, "plan", "4G 套餐")
        self.r("HSET", "items:{%s}" % m, "at", 1700000000, "2", "1003", "t2", 1700000000)
        self.r("EXPIRE", "items:{%s}" % m, 600)
        self.r("HSET", "gone:{%s}" % m, "1004", "1700000000:sms")
        self.r("SET", "pending:{%s}" % m, "cancel_all:1001,1002", "EX", 60)
        for i in range(12):
            self.r("XADD", "audit:{%s}" % m, "*", "event", "order", "n", i)
        return m

    def test_show(self):
        m = self.fill_subscriber()
        rc, out, err = self.ctl("show", "+86" + m)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("subscriber " + m, lines[0])
        rows = [l for l in lines if l.startswith("  1") or l.startswith("  9")]
        # oldest first: 1002 (2020), 1003 (2022), 9999 (2023-07), 1001 (2023-11)
        self.assertEqual([r.split()[0] for r in rows[:4]], ["1002", "1003", "9999", "1001"], out)
        self.assertIn("天气预报", rows[0])
        self.assertIn("0.5元", rows[0])
        self.assertIn("2020-09-13", rows[0])
        self.assertIn("0.01元", rows[1])
        self.assertIn("not in the catalogue", rows[2])
        self.assertIn("彩铃", rows[3])
        self.assertIn("5元", rows[3])
        self.assertIn("2023-11-14", rows[3])
        # Confirmations: 1001 has one; the others would be refunded.
        self.assertIn("CONFIRMATION", out)
        self.assertIn("CONF-1", rows[3])
        self.assertNotIn("unconfirmed", rows[3])
        for r in rows[:3]:
            self.assertIn("-  (unconfirmed)", r)
        self.assertIn("  3 without a confirmation (sub:{M}:conf): cancelling one files a double "
                      "refund", out)
        self.assertIn("item numbers (items:{%s}, hash, expires in 600 s)" % m, out)
        self.assertIn("  2 = 1003", out)
        self.assertIn("cancelled here (gone:{%s}, hash, no expiry)" % m, out)
        self.assertIn("  1004 = 1700000000:sms", out)
        self.assertIn("pending dialogue (pending:{%s}, string, expires in 60 s)" % m, out)
        self.assertIn("cancel_all:1001,1002", out)
        self.assertIn("balance_fen = 1234", out)
        self.assertIn('plan = "4G 套餐"', out)
        audit = [l for l in lines if "event=order" in l]
        self.assertEqual(len(audit), 10, out)
        self.assertIn("n=11", audit[0])     # newest first
        self.assertIn("n=2", audit[-1])

    def test_show_unknown_subscriber_and_bad_msisdn(self):
        rc, out, err = self.ctl("show", "13800138999")
        self.assertEqual(rc, 0, err)
        self.assertIn("services (0", out)
        self.assertNotIn("pending", out)
        self.assertNotIn("rate limit", out)
        rc, _, err = self.ctl("show", "12ab")
        self.assertEqual(rc, 2, err)

    def test_show_reports_keys_of_the_wrong_type(self):
        m = self.fill_subscriber()
        self.r("DEL", "acct:{%s}" % m)
        self.r("SET", "acct:{%s}" % m, "not a hash")
        rc, out, err = self.ctl("show", m)
        self.assertEqual(rc, 1, err)
        self.assertIn("account: redis error: WRONGTYPE", err)
        self.assertIn("彩铃", out)            # the rest is still shown
        self.assertIn("event=order", out)

    def test_events(self):
        for i in range(25):
            self.r("XADD", "vas:events", "*", "event", "unsubscribe", "msisdn", "13800138000",
                   "service", "1001", "channel", "sms", "at", 1700000000000 + i, "id", "ev%d" % i)
        rc, out, err = self.ctl("events")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 20)
        for field in ("event=unsubscribe", "msisdn=13800138000", "service=1001", "channel=sms",
                      "at=1700000000024", "id=ev24"):
            self.assertIn(field, lines[0])
        self.assertIn("id=ev5", lines[-1])
        rc, out, err = self.ctl("events", "--count", "3")
        self.assertEqual(rc, 0, err)
        self.assertEqual([l.split("id=")[1] for l in out.splitlines()], ["ev24", "ev23", "ev22"])

    def test_events_empty(self):
        rc, out, err = self.ctl("events")
        self.assertEqual((rc, out), (0, ""), err)

    # ---- where Redis is --------------------------------------------------

    def test_unreachable_redis_exits_4_quickly(self):
        port = harness.free_port()
        url = "redis://:hunter22@127.0.0.1:%d" % port
        path = self.write("ok.csv", "code,name,price_fen\n1,a,1\n")
        for args in (["show", "13800138000"], ["events"], ["import", "catalogue", path]):
            t0 = time.monotonic()
            rc, out, err = self.ctl(*args, url=url, timeout=30)
            self.assertEqual(rc, 4, err)
            self.assertLess(time.monotonic() - t0, 5)
            self.assertIn("cannot connect to redis at 127.0.0.1:%d: " % port, err)
            self.assertNotIn("hunter22", out + err)

    def test_silent_redis_times_out(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)   # the kernel accepts; nobody ever answers
            t0 = time.monotonic()
            rc, _, err = self.ctl("events", url="redis://127.0.0.1:%d" % s.getsockname()[1])
            dt = time.monotonic() - t0
        self.assertEqual(rc, 4, err)
        self.assertIn("no reply within 2000 ms", err)
        self.assertLess(dt, 8)

    def test_connection_lost_during_import_exits_4(self):
        """A server that answers PING, then hangs up on the first HSETs."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)

        def serve():
            c, _ = srv.accept()
            with c:
                c.recv(65536)                 # PING
                c.sendall(b"+PONG\r\n")
                c.recv(65536)                 # the first commands, then close
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        path = self.write("s.csv", "msisdn,code\n" + "13800138000,1\n" * 5000)
        rc, _, err = self.ctl("import", "subscriptions", path,
                              url="redis://127.0.0.1:%d" % srv.getsockname()[1])
        t.join(5)
        srv.close()
        self.assertEqual(rc, 4, err)
        self.assertIn("lost the connection to redis at 127.0.0.1:", err)
        self.assertIn("import stopped after 0 rows; run it again", err)

    def test_password_and_database(self):
        port = harness.free_port()
        self.start("redis-auth", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--requirepass", "s3cr%t"])
        harness.wait_for(lambda: self._redis_ping_auth(port), 10, "redis with a password")
        path = self.write("ok.csv", "code,name,price_fen\n1,a,1\n")
        rc, out, err = self.ctl("import", "catalogue", path, url="redis://:s3cr%%25t@127.0.0.1:%d/3" % port)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("s3cr", out + err)
        r = harness.Redis(port, password="s3cr%t", db=3)
        self.assertEqual(r.keys(), ["vas:catalogue", "vas:svc:1"])
        r.close()
        rc, out, err = self.ctl("events", url="redis://:wrong@127.0.0.1:%d" % port)
        self.assertEqual(rc, 4, err)
        self.assertIn("AUTH refused", err)
        self.assertNotIn("wrong", out + err.replace("WRONGPASS", ""))

    @staticmethod
    def _redis_ping_auth(port):
        try:
            r = harness.Redis(port, password="s3cr%t")
            ok = r("PING") == "PONG"
            r.close()
            return ok
        except (OSError, RuntimeError):
            return False

    def test_url_from_config_and_environment(self):
        self.r("XADD", "vas:events", "*", "event", "subscribe", "id", "x1")
        cfg = self.write_config(2775, redis_port=self.redis.port)
        rc, out, err = self.ctl("-c", cfg, "events", url="")
        self.assertEqual(rc, 0, err)
        self.assertIn("id=x1", out)
        rc, out, err = self.ctl("events", url="", env={"SHORTCODED_REDIS_URL": self.url})
        self.assertEqual(rc, 0, err)
        self.assertIn("id=x1", out)

    # ---- command line ----------------------------------------------------

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["import", "catalogue"], ["import", "users", "x.csv"],
                     ["show"], ["events", "--count", "0"], ["events", "--skip-bad"],
                     ["show", "13800138000", "--count", "3"], ["-c", "x.yaml", "events"],
                     ["--bogus", "events"]):
            rc, _, err = self.ctl(*args)
            self.assertEqual(rc, 2, "%s: %s" % (args, err))
            self.assertIn("shortcodectl: ", err)
        rc, out, _ = self.ctl("--help", url="")
        self.assertEqual(rc, 0)
        self.assertIn("import catalogue FILE.csv", out)
        rc, _, err = self.ctl("events", url="http://127.0.0.1:1")
        self.assertEqual(rc, 2, err)

    # ---- push and status -------------------------------------------------

    def pushes(self):
        return [f for _, f in self.r.stream("mt:push")]

    def test_push_one_writes_exactly_the_given_fields(self):
        rc, out, err = self.ctl("push", "--to", "13800138000", "--text", "您本月话费账单已生成")
        self.assertEqual(rc, 0, err)
        pid = out.strip()
        self.assertRegex(pid, r"^[!-~]{1,64}$")
        self.assertRegex(pid, r"-\d+-\d{13}-0$")               # HOST-PID-MS-N
        self.assertEqual(self.pushes(), [{"id": pid, "to": "13800138000",
                                          "text": "您本月话费账单已生成"}])
        self.assertIn("(1 SMS)", err)
        self.assertEqual(self.r.keys(), ["mt:push"])
        rc, out2, err = self.ctl("push", "--to", "13800138000", "--text", "again")
        self.assertEqual(rc, 0, err)
        self.assertNotEqual(out2.strip(), pid)     # a generated id is never reused

    def test_push_with_every_option(self):
        rc, out, err = self.ctl("push", "--to", "+8613800138000", "--text", "Fraud warning",
                                "--kind", "warning", "--priority", "0", "--quiet",
                                "--not-after", "2099-01-02T08:00", "--from", "10086",
                                "--id", "warn:2099/1", env={"TZ": "Asia/Shanghai"})
        self.assertEqual((rc, out), (0, "warn:2099/1\n"), err)
        ms = calendar.timegm((2099, 1, 2, 0, 0, 0)) * 1000      # 08:00 in Shanghai
        self.assertEqual(self.pushes(), [{
            "id": "warn:2099/1", "to": "+8613800138000", "text": "Fraud warning",
            "from": "10086", "kind": "warning", "priority": "0", "not_after": str(ms),
            "quiet": "1"}])
        # The other forms of not_after: unix ms, UTC, an offset.
        for when in (str(ms), "2099-01-02T00:00:00Z", "2099-01-02 02:00+02:00",
                     "2099-01-01T19:00-0500"):
            rc, out, err = self.ctl("push", "--to", "1", "--text", "x", "--not-after", when)
            self.assertEqual(rc, 0, "%s: %s" % (when, err))
            self.assertEqual(self.pushes()[-1]["not_after"], str(ms), when)

    def test_push_invalid_fields_write_nothing(self):
        long_gsm = "a" * (153 * 8 + 1)
        cases = [
            (["--to", "1380013800x"], '--to "1380013800x" must be an optional + and 1..20 digits'),
            (["--to", "1" * 21], "--to"), (["--to", ""], "--to"), (["--to", "++1"], "--to"),
            (["--text", ""], '--text "" is empty'),
            (["--text", b"\xff\xfe"], '--text "\\xff\\xfe" is not valid UTF-8'),
            (["--text", long_gsm], "needs more than 8 SMS parts (smpp.max_parts)"),
            (["--kind", "Bill"], '--kind "Bill" must be 1..16 of a-z and _'),
            (["--kind", "a" * 17], "--kind"), (["--kind", ""], "--kind"),
            (["--priority", "10"], '--priority "10" must be one digit, 0 (urgent) .. 9 (bulk)'),
            (["--priority", "-1"], "--priority"), (["--priority", "05"], "--priority"),
            (["--not-after", "1700000000"], "is not unix milliseconds"),
            (["--not-after", "1700000000000"], "is not in the future"),
            (["--not-after", "2099-02-30T00:00"], "is neither unix ms nor"),
            (["--not-after", "tomorrow"], "is neither unix ms nor"),
            (["--not-after", "2099-01-01T00:00+25:00"], "is neither unix ms nor"),
            (["--from", "SP-10086"], '--from "SP-10086" must be an optional + and 1..20 digits'),
            (["--id", "a b"], '--id "a b" must be 1..64 printable ASCII'),
            (["--id", "x" * 65], "--id"), (["--id", "中"], "--id"),
        ]
        for extra, message in cases:
            args = dict(zip(["--to", "--text"], ["13800138000", "hello"]))
            args.update(zip(extra[0::2], extra[1::2]))
            argv = ["push"] + [x for kv in args.items() for x in kv]
            rc, out, err = self.ctl(*argv)
            self.assertEqual((rc, out), (2, ""), "%s: %s" % (extra, err))
            self.assertIn(message, err, extra)
        self.assertEqual(self.r("DBSIZE"), 0)
        # 153 * 8 GSM characters fit the default 8 parts; -c CONFIG's max_parts counts.
        rc, _, err = self.ctl("push", "--to", "1", "--text", long_gsm[:-1])
        self.assertEqual(rc, 0, err)
        self.assertIn("(8 SMS)", err)
        cfg = self.write_config(2775, redis_port=self.redis.port, extra="smpp:\n  max_parts: 2\n")
        rc, _, err = self.ctl("-c", cfg, "push", "--to", "1", "--text", "字" * 135, url="")
        self.assertEqual(rc, 2, err)
        self.assertIn("needs more than 2 SMS parts", err)
        rc, _, err = self.ctl("-c", cfg, "push", "--to", "1", "--text", "字" * 134, url="")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.r("XLEN", "mt:push"), 2)

    def push_file(self, name, rows, header="to,text,kind,priority,quiet,not_after,from,id"):
        return self.write(name, header + "\n" + "".join(r + "\n" for r in rows))

    def test_push_file_of_1000_lines_is_sent_once_per_id(self):
        rows = ['138%08d,"第%d条, 提醒",reminder,%d,%s,,,' % (i, i, i % 10, "1" if i % 2 else "")
                for i in range(999)] + ["13800000999,given id,,,,,10086,my-id-999"]
        path = self.push_file("reminders-2026-12.csv", rows)
        rc, out, err = self.ctl("push", "--file", path, "--progress")
        self.assertEqual(rc, 0, err)
        self.assertIn("queued 1000 pushes into redis", err)
        first = self.pushes()
        self.assertEqual(len(first), 1000)
        ids = [f["id"] for f in first]
        self.assertEqual(len(set(ids)), 1000)
        self.assertEqual(ids[-1], "my-id-999")
        for i, f in enumerate(first[:999]):
            self.assertRegex(f["id"], r"^reminders-2026-12\.csv-[0-9a-f]{32}$")
            want = {"id": f["id"], "to": "138%08d" % i, "text": "第%d条, 提醒" % i,
                    "kind": "reminder", "priority": str(i % 10)}
            if i % 2:
                want["quiet"] = "1"
            self.assertEqual(f, want)
        self.assertEqual(first[-1], {"id": "my-id-999", "to": "13800000999",
                                     "text": "given id", "from": "10086"})
        # The same file again: the same ids (the daemon sends each once).
        rc, out, err = self.ctl("push", "--file", path)
        self.assertEqual(rc, 0, err)
        self.assertEqual([f["id"] for f in self.pushes()[1000:]], ids)
        # From another directory, with CRLF line ends: still the same ids.
        os.mkdir(os.path.join(self.dir, "again"))
        with open(path, "rb") as f:
            crlf = self.write("again/reminders-2026-12.csv", f.read().replace(b"\n", b"\r\n"))
        rc, out, err = self.ctl("push", "--file", crlf)
        self.assertEqual(rc, 0, err)
        self.assertEqual([f["id"] for f in self.pushes()[2000:]], ids)
        # Another file name is another set of pushes.
        other = self.push_file("reminders-2027-01.csv", rows[:3])
        rc, out, err = self.ctl("push", "--file", other)
        self.assertEqual(rc, 0, err)
        new = [f["id"] for f in self.pushes()[3000:]]
        self.assertEqual(len(new), 3)
        self.assertFalse(set(new) & set(ids))

    def test_push_file_with_a_bad_line_sends_nothing(self):
        path = self.push_file("bad.csv", [
            "13800138000,ok,,,,,,",                  # 2
            "1380013800x,bad to,,,,,,",              # 3
            "13800138000,,,,,,,",                    # 4: empty text
            "13800138000,x,Notice,,,,,",             # 5
            "13800138000,x,,5,2,,,",                 # 6: quiet 2
            "13800138000,x,,,,1700000000000,,",      # 7: in the past
            "13800138000,x,,,,,,a b",                # 8
            "13800138000,x,,,,,,"])                  # 9: fine
        rc, out, err = self.ctl("push", "--file", path)
        self.assertEqual(rc, 1, err)
        self.assertEqual(self.r("DBSIZE"), 0)
        self.assertIn(path + ':3: to "1380013800x" must be', err)
        self.assertIn(path + ':4: text "" is empty', err)
        self.assertIn(path + ':5: kind "Notice" must be', err)
        self.assertIn(path + ':6: quiet "2" must be 1, 0 or empty', err)
        self.assertIn(path + ":7: not_after", err)
        self.assertIn(path + ':8: id "a b" must be', err)
        self.assertIn("6 of 8 rows are bad; nothing queued", err)
        for header in ("to,txt", "text", "to,text,to"):
            rc, _, err = self.ctl("push", "--file", self.push_file("h.csv", ["1,x"], header))
            self.assertEqual(rc, 1, err)
            self.assertIn("header:", err)
        self.assertEqual(self.r("DBSIZE"), 0)

    def test_status_of_a_push(self):
        at = 1796300000123
        self.r("HSET", "mt:{bill-7}", "state", "delivered", "to", "13800138000", "kind", "bill",
               "priority", "3", "parts", "2", "err", "000", "at", at, "entry", "%d-0" % (at - 5000))
        for ms, pid, state in ((at - 4000, "bill-7", "sent"), (at - 3000, "other", "sent"),
                               (at, "bill-7", "delivered"), (at + 9000, "bill-7", "later")):
            self.r("XADD", "mt:status", "%d-0" % ms, "id", pid, "to", "13800138000",
                   "state", state, "parts", "2", "err", "000", "at", ms)
        rc, out, err = self.ctl("status", "bill-7")
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertEqual(lines[:9], [
            "push bill-7", "  state     delivered", "  to        13800138000",
            "  kind      bill", "  priority  3", "  parts     2", "  err       000",
            "  at        1796300000123  (2026-12-03 12:13:20.123)",
            "  entry     1796299995123-0"])
        self.assertTrue(lines[9].startswith("mt:status (latest first"), lines[9])
        history = lines[10:]
        self.assertEqual(len(history), 2, out)      # not "other", not after at + 2 s
        self.assertIn("state=delivered", history[0])
        self.assertIn("state=sent", history[1])
        self.assertTrue(history[1].startswith("  1796299996123-0  2026-12-03 12:13:16"))

    def test_status_of_an_unknown_id(self):
        rc, out, err = self.ctl("status", "nope")
        self.assertEqual((rc, out), (1, ""), err)
        self.assertIn("unknown id nope", err)
        rc, out, err = self.ctl("status", "a b")
        self.assertEqual(rc, 2, err)

    def test_push_redis_error_replies_exit_1(self):
        self.r("SET", "mt:push", "not a stream")
        rc, out, err = self.ctl("push", "--to", "1", "--text", "x")
        self.assertEqual((rc, out), (1, ""), err)
        self.assertIn("mt:push: redis: WRONGTYPE", err)
        path = self.push_file("w.csv", ["1,x,,,,,,", "2,y,,,,,,"])
        rc, out, err = self.ctl("push", "--file", path)
        self.assertEqual(rc, 1, err)
        self.assertIn(path + ":2: redis: WRONGTYPE", err)
        self.assertIn(path + ":3: redis: WRONGTYPE", err)
        self.assertIn("2 rows refused by redis", err)

    def test_push_usage_errors_exit_2(self):
        for args in (["push"], ["push", "--to", "1"], ["push", "--text", "x"],
                     ["push", "--file", "f.csv", "--to", "1"], ["push", "x", "--to", "1"],
                     ["push", "--to", "1", "--text", "x", "--skip-bad"],
                     ["status"], ["status", "a", "b"], ["show", "1", "--to", "1"],
                     ["events", "--quiet"], ["push", "--to", "1", "--text", "x", "--count", "2"]):
            rc, _, err = self.ctl(*args)
            self.assertEqual(rc, 2, "%s: %s" % (args, err))
        rc, _, err = self.ctl("push", "--file", os.path.join(self.dir, "missing.csv"))
        self.assertEqual(rc, 2, err)
        self.assertEqual(self.r("DBSIZE"), 0)
        rc, out, _ = self.ctl("--help", url="")
        self.assertIn("push --file FILE.csv", out)
        self.assertIn("status ID", out)


if __name__ == "__main__":
    harness.main()
