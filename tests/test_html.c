/* Tests of text extraction: HTML block structure, dropped elements, the title, every
 * HTML5 character reference, whitespace collapsing, plain-text lines, and inputs built
 * to be slow or to break the parser (they must finish fast and keep the contract the
 * rest of the pipeline relies on, the one fuzz/fuzz_html.c checks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "collapse.h"
#include "extract.h"
#include "html_entities.h"

/* The contract of nd_blocks: each block non-empty, inside text, followed by '\n', no
 * surrounding space, blocks back to back in order. */
static void check_contract(const nd_blocks *b)
{
    size_t pos = 0;
    for (size_t i = 0; i < b->n; i++) {
        const nd_block *bl = &b->v[i];
        assert_true(bl->len > 0);
        assert_true((size_t)bl->off + bl->len < b->text.len + 1);
        assert_int_equal(bl->off, pos);
        const char *s = b->text.p + bl->off;
        assert_true(s[0] != ' ' && s[bl->len - 1] != ' ');
        assert_int_equal(s[bl->len], '\n');
        assert_null(memchr(s, '\n', bl->len));
        for (uint32_t k = 0; k + 1 < bl->len; k++)
            assert_false(s[k] == ' ' && s[k + 1] == ' ');
        pos = (size_t)bl->off + bl->len + 1;
    }
    assert_int_equal(pos, b->text.len);
    assert_int_equal(nd_blocks_joined_len(b), b->n ? (int64_t)b->text.len - 1 : 0);
    if (b->text.p)
        assert_int_equal(b->text.p[b->text.len], '\0');
    if (b->title.len) {
        assert_true(b->title.p[0] != ' ' && b->title.p[b->title.len - 1] != ' ');
        assert_int_equal(b->title.p[b->title.len], '\0');
    }
}

/* Blocks joined with '|' (none of the inputs below has one in its text). */
static char *joined(const nd_blocks *b)
{
    check_contract(b);
    char *o = malloc(b->text.len + 1), *w = o;
    for (size_t i = 0; i < b->n; i++) {
        if (i)
            *w++ = '|';
        memcpy(w, b->text.p + b->v[i].off, b->v[i].len);
        w += b->v[i].len;
    }
    *w = '\0';
    return o;
}

static void html_is(const char *html, const char *want)
{
    nd_blocks b;
    nd_blocks_init(&b);
    assert_int_equal(nd_html_extract(html, strlen(html), &b), 0);
    char *got = joined(&b);
    if (strcmp(got, want) != 0)
        print_error("html:  %s\nwant: %s\ngot:  %s\n", html, want, got);
    assert_string_equal(got, want);
    free(got);
    nd_blocks_free(&b);
}

static void text_is(const char *s, size_t len, const char *want)
{
    nd_blocks b;
    nd_blocks_init(&b);
    assert_int_equal(nd_text_extract(s, len, &b), 0);
    char *got = joined(&b);
    assert_string_equal(got, want);
    assert_int_equal(b.title.len, 0);
    free(got);
    nd_blocks_free(&b);
}

static void test_realistic_page(void **state)
{
    (void)state;
    static const char page[] =
        "<!DOCTYPE html>\n<html lang=\"en\"><head>\n"
        "<meta charset=\"utf-8\"><title>\n  Park opens  &amp; city\tcheers | The Daily </title>\n"
        "<link rel=\"stylesheet\" href=\"/a.css\"><style>.a > p { color: red }</style>\n"
        "<script>var html = '<p>not text</p>'; if (a < b && c > d) {}</script>\n"
        "</head><body class=\"page\">\n"
        "<header><a href=\"/\" class=logo><img src=\"/l.png\" alt=\"The Daily\"></a>\n"
        "<nav><ul><li><a href=\"/news\">News</a></li><li><a href=\"/sport\">Sport</a></li>\n"
        "<li><a href=\"/culture\" data-x='a>b'>Culture &amp; Arts</a></li></ul></nav></header>\n"
        "<main><article><h1>City park opens after <em>ten</em> years</h1>\n"
        "<div class=\"byline\">By <a href=\"/jane\">Jane Doe</a> &middot; 2 May 2024</div>\n"
        "<p>The new park opened on Tuesday,\n   after a decade of\tdelays.</p>\n"
        "<p>&ldquo;It was worth the wait,&rdquo; said the mayor.<br>Residents agreed.</p>\n"
        "<!-- ad slot <p>hidden</p> --><div class=\"ad\"><script async src=x></script></div>\n"
        "<p>Entry is free &mdash; the gates open at 8&nbsp;am.</p></article>\n"
        "<aside class=\"related\"><h2>Related</h2><ul>\n"
        "<li><a href=\"/1\">Library reopens</a></li>\n<li><a href=\"/2\">New bus line</a></li>\n"
        "</ul></aside></main>\n"
        "<footer><p>&copy; 2024 The Daily</p><p><a href=\"/privacy\">Privacy</a> | "
        "<a href=\"/terms\">Terms</a></p></footer>\n"
        "<svg><title>icon</title><path d=\"M0 0\"/></svg></body></html>\n";
    nd_blocks b;
    nd_blocks_init(&b);
    assert_int_equal(nd_html_extract(page, sizeof page - 1, &b), 0);
    check_contract(&b);
    static const char *want[] = {
        "News", "Sport", "Culture & Arts",
        "City park opens after ten years",
        "By Jane Doe \xc2\xb7 2 May 2024",
        "The new park opened on Tuesday, after a decade of delays.",
        "\xe2\x80\x9cIt was worth the wait,\xe2\x80\x9d said the mayor.",
        "Residents agreed.",
        "Entry is free \xe2\x80\x94 the gates open at 8\xc2\xa0" "am.",
        "Related", "Library reopens", "New bus line",
        "\xc2\xa9 2024 The Daily", "Privacy | Terms",
    };
    size_t nwant = sizeof want / sizeof *want;
    assert_int_equal(b.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_int_equal(b.v[i].len, strlen(want[i]));
        assert_memory_equal(b.text.p + b.v[i].off, want[i], b.v[i].len);
    }
    assert_string_equal(b.title.p, "Park opens & city cheers | The Daily");
    assert_int_equal(b.title.len, strlen(b.title.p));
    nd_blocks_free(&b);
}

static void test_dropped_elements(void **state)
{
    (void)state;
    html_is("<p>a<script>x</script>b</p>", "ab");
    html_is("<p>a<SCRIPT type=x>if (a</b) document.write(\"</scr\" + \"ipt>\")</SCRIPT >b", "ab");
    html_is("<script>var s = '<!-- </p> -->';</script>c", "c");
    html_is("<script>s = \"</scriptx>\"; t = 1</script/>after", "after");
    html_is("<style>p>a{}</STYLE><p>x</p>", "x");
    html_is("<noscript><p>Enable JS</p></noscript>real", "real");
    html_is("<template><p>t1</p><template>t2</template>t3</template>out", "out");
    html_is("<p>keep<iframe src=x><p>no</p></iframe>this</p>", "keepthis");
    html_is("a<object data=x><p>fallback</p></object>b", "ab");
    html_is("<svg viewBox='0 0 1 1'><text>no</text><svg><g/></svg>still no</svg>yes", "yes");
    html_is("<math><mi>x</mi></math>ok", "ok");
    html_is("a<svg/>b", "ab");
    html_is("<svg><![CDATA[ </svg> <p> ]]></svg>after", "after");
    /* An HTML element inside svg ends the svg, as a browser's parser does. */
    html_is("<svg><g><p>visible</p>", "visible");
    /* A script never closed takes the rest of the document, as in a browser. */
    html_is("<p>before</p><script>var a = 1; <p>lost</p>", "before");
    html_is("<p>1<!-- c -->2<!---->3<!-->4<!--->5<!-- a -- b --!>6</p>", "123456");
    html_is("a<!DOCTYPE html>b<?xml version='1.0'?>c<! bogus >d</ bogus>e</>f", "abcdef");
    html_is("<p>x<!-- never closed <p>y</p>", "x");
    html_is("<DIV>A</DIV><Div>B</dIv><P CLASS=\"x\">C</P>", "A|B|C");
}

static void test_blocks_and_inline(void **state)
{
    (void)state;
    html_is("<p>a <b>bold</b> and <a href='x'>link</a>, <span>s</span><i>i</i>.</p>",
            "a bold and link, si.");
    html_is("<ul><li>one<li>two</ul><table><tr><td>c1<td>c2</tr></table>", "one|two|c1|c2");
    html_is("line<br>break<br/>x<hr>y", "line|break|x|y");
    html_is("<h1>T</h1><h6>six</h6><h7>seven</h7>x", "T|six|sevenx");
    html_is("<p>x</p>\n\n   <p>  \t  </p><p> y </p>", "x|y");
    html_is("<div attr='a>b' x=\"<\" y=c>text</div>", "text");
    html_is("<a href=x/>link</a>", "link");
    html_is("<p title=\"'>\" data-x = 'q\"' n>z</p>", "z");
    html_is("<textarea>a <b> &amp; c</textarea>d", "a <b> & c|d");
    html_is("x<plaintext>a <p>b</p> &amp;", "x|a <p>b</p> &amp;");
    html_is("<table><caption>Cap</caption><tr><th>H</th></tr></table>", "Cap|H");
    html_is("<select><option>A<option>B</select>", "A|B");
}

static void test_malformed(void **state)
{
    (void)state;
    html_is("a < b && c > d", "a < b && c > d");
    html_is("< p>not a tag</p>", "< p>not a tag");
    html_is("<3 and 1<2 <", "<3 and 1<2 <");
    html_is("abc<div class='x", "abc");
    html_is("abc<div", "abc");
    html_is("abc</", "abc</");
    html_is("abc</div", "abc");
    html_is("x&", "x&");
    html_is("nul\0led", "nul");   /* strlen stops: checked with a length below */
    const char nul[] = "<p>a\0b c\0 d</p>";
    nd_blocks b;
    nd_blocks_init(&b);
    assert_int_equal(nd_html_extract(nul, sizeof nul - 1, &b), 0);
    char *got = joined(&b);
    assert_string_equal(got, "ab c d");
    free(got);
    nd_blocks_free(&b);
    html_is("\xEF\xBB\xBF<p>bom</p>", "bom");
    html_is("", "");
}

static void test_title(void **state)
{
    (void)state;
    nd_blocks b;
    nd_blocks_init(&b);
    const char *h = "<html><head><title> A &lt;b&gt; &amp;&#32;c\n</title><title>second</title>"
                    "</head><body>x</body>";
    assert_int_equal(nd_html_extract(h, strlen(h), &b), 0);
    assert_string_equal(b.title.p, "A <b> & c");
    char *got = joined(&b);
    assert_string_equal(got, "x");
    free(got);
    /* Appending a second document keeps the first title. */
    const char *h2 = "<title>other</title><p>y</p>";
    assert_int_equal(nd_html_extract(h2, strlen(h2), &b), 0);
    assert_string_equal(b.title.p, "A <b> & c");
    got = joined(&b);
    assert_string_equal(got, "x|y");
    free(got);
    nd_blocks_clear(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.title.len, 0);
    /* Never closed: the tag is ignored rather than swallowing the page. */
    const char *h3 = "<title>Broken<p>body text</p>";
    assert_int_equal(nd_html_extract(h3, strlen(h3), &b), 0);
    assert_int_equal(b.title.len, 0);
    got = joined(&b);
    assert_string_equal(got, "Broken|body text");
    free(got);
    nd_blocks_clear(&b);
    /* An svg's title is not the document's. */
    const char *h4 = "<svg><title>icon</title></svg><title>Doc</title>";
    assert_int_equal(nd_html_extract(h4, strlen(h4), &b), 0);
    assert_string_equal(b.title.p, "Doc");
    assert_int_equal(b.n, 0);
    nd_blocks_free(&b);
}

static int cmp_entity(const nd_entity *a, const nd_entity *b)
{
    size_t m = a->name_len < b->name_len ? a->name_len : b->name_len;
    int r = memcmp(a->name, b->name, m);
    return r ? r : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static void test_named_references(void **state)
{
    (void)state;
    html_is("&amp;&lt;&gt;&quot;&apos;&nbsp;|", "&<>\"'\xc2\xa0|");
    html_is("caf&eacute; &mdash; &hellip; &euro;&trade; &rarr;",
            "caf\xc3\xa9 \xe2\x80\x94 \xe2\x80\xa6 \xe2\x82\xac\xe2\x84\xa2 \xe2\x86\x92");
    html_is("&amp &copy 2024 &copy2024 AT&ampT", "& \xc2\xa9 2024 \xc2\xa9" "2024 AT&T");
    html_is("&notit; &notin; &not", "\xc2\xac" "it; \xe2\x88\x89 \xc2\xac");
    html_is("&Afr; &NotEqualTilde;", "\xf0\x9d\x94\x84 \xe2\x89\x82\xcc\xb8");
    html_is("&unknown; &amp;x &AMP; &Amp; &nbspx", "&unknown; &x & &Amp; \xc2\xa0x");
    html_is("&CounterClockwiseContourIntegral; &CounterClockwiseContourIntegralX;",
            "\xe2\x88\xb3 &CounterClockwiseContourIntegralX;");
    html_is("a&Tab;&NewLine;b", "a b");

    assert_int_equal(ND_ENTITY_COUNT, 2231);
    size_t legacy = 0;
    for (size_t i = 0; i < ND_ENTITY_COUNT; i++) {
        const nd_entity *e = &nd_entities[i];
        assert_int_equal(strlen(e->name), e->name_len);
        assert_true(e->value_len >= 1 && e->value_len <= ND_ENTITY_MAX_VALUE);
        if (i)
            assert_true(cmp_entity(&nd_entities[i - 1], e) < 0);
        legacy += e->name[e->name_len - 1] != ';';
    }
    assert_int_equal(legacy, 106);

    /* Every entry decodes to its value, in text. */
    nd_blocks b;
    nd_blocks_init(&b);
    char in[64], want[64];
    for (size_t i = 0; i < ND_ENTITY_COUNT; i++) {
        const nd_entity *e = &nd_entities[i];
        int n = snprintf(in, sizeof in, "x&%s y", e->name);
        size_t w = 0;
        want[w++] = 'x';
        for (size_t k = 0; k < e->value_len; k++) {
            char ch = e->value[k];
            int sp = ch == ' ' || ch == '\t' || ch == '\n';
            if (!(sp && want[w - 1] == ' '))
                want[w++] = sp ? ' ' : ch;
        }
        if (want[w - 1] != ' ')
            want[w++] = ' ';
        want[w++] = 'y';
        nd_blocks_clear(&b);
        assert_int_equal(nd_html_extract(in, (size_t)n, &b), 0);
        assert_int_equal(b.n, 1);
        if (b.v[0].len != w || memcmp(b.text.p, want, w) != 0)
            fail_msg("&%s decoded wrong", e->name);
    }
    nd_blocks_free(&b);
}

static void test_numeric_references(void **state)
{
    (void)state;
    html_is("&#65;&#x42;&#X43;&#68&#x45 &#0070;", "ABCDE F");
    html_is("&#0; &#xD800; &#xDFFF; &#x110000; &#99999999999999999999999;",
            "\xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd");
    html_is("&#128; &#x80; &#150; &#x9F; &#x81; &#x9d;",
            "\xe2\x82\xac \xe2\x82\xac \xe2\x80\x93 \xc5\xb8 \xc2\x81 \xc2\x9d");
    html_is("&#x1F600; &#128512; &#x10FFFF; &#xFFFD;",
            "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbd");
    html_is("&#; &#x; &#xZZ; &# 1 &#-1;", "&#; &#x; &#xZZ; &# 1 &#-1;");
    html_is("a&#32;&#32; &#9;&#10;b&#160;c", "a b\xc2\xa0" "c");
    html_is("&#x7f; &#127;", "\x7f \x7f");
}

static void test_whitespace(void **state)
{
    (void)state;
    nd_blocks b;
    nd_blocks_init(&b);
    const char *s = "  a \t\n b  \f\v\r c ";
    assert_int_equal(nd_blocks_add(&b, s, strlen(s)), 0);
    assert_int_equal(nd_blocks_add(&b, " \t\r\n\f\v ", 7), 0);
    assert_int_equal(nd_blocks_add(&b, "", 0), 0);
    assert_int_equal(nd_blocks_add(&b, "d", 1), 0);
    assert_int_equal(b.n, 2);
    assert_string_equal(b.text.p, "a b c\nd\n");
    assert_int_equal(b.v[1].off, 6);
    assert_int_equal(b.v[1].len, 1);
    check_contract(&b);
    nd_blocks_clear(&b);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.text.len, 0);
    assert_int_equal(nd_blocks_add(&b, "x", 1), 0);
    assert_string_equal(b.text.p, "x\n");
    nd_blocks_free(&b);
    nd_blocks_free(&b);   /* freeing twice is harmless: free leaves it initialised */
    html_is("<p>\n\t a\n\n  b \r\n</p>", "a b");
    html_is("x <b> y </b> z", "x y z");
}

static void test_text_lines(void **state)
{
    (void)state;
    const char *s = "line one\r\n\r\n  line  two  \rthree\n\n\nfour\r";
    text_is(s, strlen(s), "line one|line two|three|four");
    text_is("", 0, "");
    text_is("\n\r\n\r  \n", 6, "");
    text_is("no newline", 10, "no newline");
    text_is("\xEF\xBB\xBF" "bom\n\xEF\xBB\xBF", 10, "bom|\xEF\xBB\xBF");
    text_is("<p>not html &amp;</p>", 21, "<p>not html &amp;</p>");

    /* Megabyte lines: one block each, in linear time. */
    size_t n = 1 << 20;
    char *big = malloc(2 * n + 2);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 2 ? ' ' : 'w';
    big[n] = '\r';
    for (size_t i = 0; i < n; i++)
        big[n + 1 + i] = i % 2 ? 'v' : '\t';
    nd_blocks b;
    nd_blocks_init(&b);
    assert_int_equal(nd_text_extract(big, 2 * n + 1, &b), 0);
    check_contract(&b);
    assert_int_equal(b.n, 2);
    assert_int_equal(b.v[0].len, n - 1);    /* trailing space trimmed */
    assert_int_equal(b.v[1].len, n - 1);    /* leading tab trimmed */
    nd_blocks_free(&b);
    free(big);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* n copies of unit, optionally behind a prefix. */
static char *repeat(const char *prefix, const char *unit, size_t n, size_t *len)
{
    size_t pl = strlen(prefix), ul = strlen(unit);
    char *s = malloc(pl + ul * n + 1);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + pl + i * ul, unit, ul);
    *len = pl + ul * n;
    s[*len] = '\0';
    return s;
}

static void adversarial(const char *prefix, const char *unit, size_t want_blocks,
                        size_t want_first_len)
{
    size_t len;
    char *s = repeat(prefix, unit, (1u << 20) / strlen(unit), &len);
    nd_blocks b;
    nd_blocks_init(&b);
    double t0 = now();
    assert_int_equal(nd_html_extract(s, len, &b), 0);
    assert_int_equal(nd_text_extract(s, len, &b), 0);
    double dt = now() - t0;
    /* Quadratic behaviour on 1 MB would take minutes; linear takes milliseconds. */
    if (dt > 2.0)
        fail_msg("%s%s... took %.1f s", prefix, unit, dt);
    check_contract(&b);
    assert_true(b.n >= want_blocks);
    nd_blocks_clear(&b);
    assert_int_equal(nd_html_extract(s, len, &b), 0);
    if (b.n != want_blocks || (want_blocks && b.v[0].len != want_first_len))
        fail_msg("%s%s...: %zu blocks, first %u bytes", prefix, unit, b.n,
                 b.n ? b.v[0].len : 0);
    nd_blocks_free(&b);
    free(s);
}

static void test_adversarial(void **state)
{
    (void)state;
    size_t mb = 1u << 20;
    adversarial("", "<!--", 0, 0);
    adversarial("", "<a ", 0, 0);
    adversarial("", "&", 1, mb);
    adversarial("", "<", 1, mb);
    adversarial("", "&&&&&&&&&&&&&&&a", 1, mb);
    adversarial("", "&amp", 1, mb / 4);
    adversarial("", "&#", 1, mb);
    adversarial("", "&zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 1, mb / 41 * 41);
    adversarial("x&#", "1", 1, 4);                  /* saturated to U+FFFD */
    adversarial("", "<title>", 0, 0);
    adversarial("", "<textarea>", 0, 0);
    adversarial("<script>", "</scrip", 0, 0);
    adversarial("", "<script>", 0, 0);
    adversarial("", "<svg>", 0, 0);
    adversarial("", "<![CDATA[", 0, 0);
    adversarial("<svg>", "<![CDATA[", 0, 0);
    adversarial("", "<p>", 0, 0);
    adversarial("", "<p>x", mb / 4, 1);
    adversarial("", "</p", 0, 0);
    adversarial("", "<a b='", 0, 0);
    adversarial("", "<!", 0, 0);
    adversarial("", "<!-- -->", 0, 0);
    adversarial("", "a\r\n", 1, 2 * (mb / 3) - 1);
}

/* Every seed of the HTML fuzzer goes through both extractors and keeps the contract. */
static void test_fuzz_seeds(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fuzz/seeds/html", ND_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int seen = 0;
    nd_blocks b;
    nd_blocks_init(&b);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        nd_blocks_clear(&b);
        assert_int_equal(nd_html_extract(buf, n, &b), 0);
        check_contract(&b);
        if (strcmp(de->d_name, "page.html") == 0) {
            assert_string_equal(b.title.p, "Ba\xcc\x80i vi\xc3\xaa\xcc\x81t & tin");
            char *got = joined(&b);
            assert_non_null(strstr(got, "|with a break & a legacy entity \xc2\xa9 2024 "
                                        "\xf0\x9f\x98\x80 \xef\xbf\xbd \xef\xbf\xbd \xe2\x80\x93|"));
            assert_null(strstr(got, "hidden"));
            assert_null(strstr(got, "|no"));
            free(got);
        }
        nd_blocks_clear(&b);
        assert_int_equal(nd_text_extract(buf, n, &b), 0);
        check_contract(&b);
        seen++;
    }
    closedir(d);
    nd_blocks_free(&b);
    assert_true(seen >= 5);
}

/* The digest clean's warc format records is that of the blocks joined by '\n', however
 * they lie in text: back to back (one call), or apart, out of order, or short of the
 * last newline, as no extractor here lays them, where nd_blocks_joined_len says -1. */
static void test_blocks_digest(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        nd_block v[3];
        size_t n;
        int64_t joined;
    } cases[] = {
        {"", {{0, 0}}, 0, 0},
        {"one\ntwo\n", {{0, 3}, {4, 3}}, 2, 7},
        {"one\nXtwo\n", {{0, 3}, {5, 3}}, 2, -1},
        {"two\none\n", {{4, 3}, {0, 3}}, 2, -1},
        {"one\ntwoX", {{0, 3}, {4, 3}}, 2, -1},
        {"one\ntwo\nX", {{0, 3}, {4, 3}}, 2, -1},
        {"one\nt\nwo\n", {{0, 3}, {4, 1}, {6, 2}}, 3, 8},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        nd_blocks b;
        nd_blocks_init(&b);
        assert_int_equal(nd_buf_append(&b.text, cases[k].text, strlen(cases[k].text)), 0);
        b.v = (nd_block *)cases[k].v;
        b.n = cases[k].n;
        assert_int_equal(nd_blocks_joined_len(&b), cases[k].joined);
        char want[64];
        size_t w = 0;
        for (size_t i = 0; i < b.n; i++) {
            if (i)
                want[w++] = '\n';
            memcpy(want + w, b.text.p + b.v[i].off, b.v[i].len);
            w += b.v[i].len;
        }
        XXH128_hash_t h = XXH3_128bits(want, w);
        uint64_t d[2];
        assert_int_equal(nd_blocks_digest(&b, d), 0);
        assert_true(d[0] == h.low64 && d[1] == h.high64);
        b.v = NULL;
        b.n = 0;
        nd_blocks_free(&b);
    }
}

/* nd_collapse (eight bytes at a time where it can) against the byte-by-byte rule, on
 * random mixes of letters, UTF-8, single and repeated spaces, tabs, newlines and NULs,
 * at every alignment and with either state carried in. */
static size_t collapse_ref(char *w, const char *s, size_t n, unsigned *prev, int drop_nul)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int sp = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
        if (drop_nul && c == 0)
            continue;
        if (sp && *prev)
            continue;
        w[k++] = sp ? ' ' : (char)c;
        *prev = (unsigned)sp;
    }
    return k;
}

static void test_collapse_fast_path(void **state)
{
    (void)state;
    static const char alphabet[] = "abcdefgh   \t\n\r\v\f\0\xc3\xa0xyz";
    char in[300], a[300], b[300];
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)round % 97;
        for (size_t i = 0; i < n; i++) {
            r ^= r << 13, r ^= r >> 7, r ^= r << 17;
            /* mostly words and single spaces, sometimes anything */
            in[i] = (r & 7) ? (r >> 8) % 6 ? (char)('a' + (r >> 16) % 26) : ' '
                            : alphabet[(r >> 24) % (sizeof alphabet - 1)];
        }
        for (int drop = 0; drop < 2; drop++) {
            unsigned pa = (unsigned)(round & 1), pb = pa;
            size_t la = nd_collapse(a, in, n, &pa, drop);
            size_t lb = collapse_ref(b, in, n, &pb, drop);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
            assert_int_equal(pa, pb);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_realistic_page),
        cmocka_unit_test(test_collapse_fast_path),
        cmocka_unit_test(test_dropped_elements),
        cmocka_unit_test(test_blocks_and_inline),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_title),
        cmocka_unit_test(test_named_references),
        cmocka_unit_test(test_numeric_references),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_text_lines),
        cmocka_unit_test(test_adversarial),
        cmocka_unit_test(test_fuzz_seeds),
        cmocka_unit_test(test_blocks_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
