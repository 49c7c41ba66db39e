#!/usr/bin/env python3
"""Writes the fuzz seed corpora (fuzz/seeds/TARGET/). Run by hand when the formats
grow; its output is committed. Every text here is made up for the purpose."""
import gzip, io, os, zlib

HERE = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def gz(b):
    bio = io.BytesIO()
    with gzip.GzipFile(fileobj=bio, mode="wb", mtime=0) as g:
        g.write(b)
    return bio.getvalue()

page = """<!DOCTYPE html><html><head><title>Ba&#768;i vi&ecirc;&#x301;t &amp; tin</title>
<style>p{color:red}</style><script>if(a<b){document.write("</p>")}</script></head>
<body><nav><ul><li><a href="/">Trang chủ</a></li><li>Thế giới</li></ul></nav>
<article><h1>Hội nghị tổng kết năm</h1><p class="x>y">Đoạn thứ nhất &mdash; có &ldquo;trích dẫn&rdquo; và&nbsp;khoảng trắng.</p>
<p>Second paragraph<br>with a break &amp a legacy entity &copy 2024 &#128512; &#0; &#x110000; &#150;</p>
<!-- a comment <p>hidden</p> --><template><p>hidden too</p></template>
<svg><text>no</text></svg><noscript>no</noscript><td>cell</td><th>head</th></article>
<footer>Bản quyền thuộc về tòa soạn</footer></body></html>
"""
put("html", "page.html", page)
put("html", "broken.html", "<p>open <b>bold <div attr='a>b' x=\"<\">text</div> a < b && c &unknown; &#xZZ; <!-- never closed <p>x")
put("html", "nfd.html", "<p>" + "ho\u0300a thu\u0309y kho\u0309e" + "</p><p>日本語のテキスト。ภาษาไทย</p>")
put("html", "script-tricks.html", "<SCRIPT>var s='</scr'+'ipt>';</SCRIPT><p>after</p><style>a{}</STYLE ><p>x</p><script>")
put("html", "text.txt", "line one\r\nline two\n\n   \n\tindented   line\rlast")

def warc_record(typ, uri, block, extra=""):
    h = f"WARC/1.0\r\nWARC-Type: {typ}\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{zlib.crc32((uri or '').encode()):012d}>\r\n"
    if uri:
        h += f"WARC-Target-URI: {uri}\r\n"
    h += "WARC-Date: 2024-05-01T10:00:00Z\r\n" + extra
    h += f"Content-Length: {len(block)}\r\n\r\n"
    return h.encode() + block + b"\r\n\r\n"

html = "<html><head><title>Một bài</title></head><body><p>Nội dung bài viết một.</p></body></html>".encode()
def chunked(b, n=17):
    out = b""
    for i in range(0, len(b), n):
        c = b[i:i + n]
        out += b"%x\r\n" % len(c) + c + b"\r\n"
    return out + b"0\r\n\r\n"

resp_plain = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nLast-Modified: Wed, 01 May 2024 08:00:00 GMT\r\n\r\n" + html
resp_chunked = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(html)
resp_gzip = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(gz(html))
recs = [
    warc_record("warcinfo", None, b"software: handmade\r\nformat: WARC File Format 1.0\r\n", "Content-Type: application/warc-fields\r\n"),
    warc_record("request", "http://a.example/1", b"GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n", "Content-Type: application/http;msgtype=request\r\n"),
    warc_record("response", "http://a.example/1", resp_plain, "Content-Type: application/http;msgtype=response\r\n"),
    warc_record("response", "<http://a.example/2>", resp_chunked, "Content-Type: application/http;msgtype=response\r\n"),
    warc_record("response", "http://a.example/3", resp_gzip, "Content-Type: application/http;msgtype=response\r\n"),
    warc_record("metadata", "http://a.example/1", b"via: nowhere\r\n"),
    warc_record("revisit", "http://a.example/1", b"HTTP/1.1 304 Not Modified\r\n\r\n"),
    warc_record("resource", "file:///notes.txt", "Dòng một\nDòng hai\n".encode(), "Content-Type: text/plain\r\n"),
]
put("warc", "mixed.warc", b"".join(recs))
put("warc", "mixed.warc.gz", b"".join(gz(r) for r in recs))
put("warc", "one-member.warc.gz", gz(b"".join(recs)))
bad = recs[2][:60] + b"\r\n\r\ngarbage" + recs[3] + b"WARC/1.0\r\nContent-Length: 99999999\r\n\r\nshort"
put("warc", "corrupt.warc", bad)
put("warc", "lf-only.warc", recs[2].replace(b"\r\n", b"\n", 8))
put("warc", "truncated.warc.gz", b"".join(gz(r) for r in recs)[:-40])

put("gzip", "page.html.gz", gz(page.encode()))
put("gzip", "multi.txt.gz", gz("phần một\n".encode()) + gz("phần hai\n".encode()))
put("gzip", "truncated.txt.gz", gz(("dòng chữ lặp lại\n" * 200).encode())[:-30])
z = bytearray(gz(b"corrupt stream in the middle\n" * 50)); z[30] ^= 0xFF
put("gzip", "corrupt.txt.gz", bytes(z))
put("gzip", "binary.gz", gz(bytes(range(256)) * 4))
put("gzip", "raw-deflate", zlib.compress(b"zlib wrapper, not gzip"))

# Declared legacy charsets: converted through iconv before extraction.
legacy = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">"
          "<title>Tin</title></head><body><p>").encode() + b"Vi\xea\xf2t Nam, H\xe0 N\xf4\xf2i \x81" + b"</p></body></html>"
put("gzip", "legacy-charset.html.gz", gz(legacy))
resp_legacy = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=gbk\r\n\r\n<p>\xd6\xd0\xce\xc4 \xd6</p>")
put("warc", "legacy-charset.warc",
    warc_record("response", "http://cn.example/1", resp_legacy, "Content-Type: application/http;msgtype=response\r\n"))
