/* Synthetic crawl generator with ground truth: sites with templates in five languages,
 * every input format, syndicated/exact/mirrored copies, hard negatives and noise. All
 * text is synthesised from generated vocabularies; output is a function of the seed. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <utf8proc.h>
#include <zlib.h>

#include "buf.h"
#include "error.h"
#include "json.h"

/* ---------------------------------------------------------------- PRNG ---- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Independent streams keyed by (a, b): an article's text depends only on its key, so
 * copies regenerate it instead of keeping it in memory. */
static void rng_seed(rng *r, uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b * 0xD1342543DE82EF95ull + 0x632BE59BD9B4E019ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&x);
}

static uint64_t rnext(rng *r)
{
    uint64_t *s = r->s;
    uint64_t t = s[1] << 17, res = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3] << 45 | s[3] >> 19;
    return res;
}

static uint32_t rbelow(rng *r, uint32_t n)
{
    return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

static int rrange(rng *r, int lo, int hi)
{
    return lo + (int)rbelow(r, (uint32_t)(hi - lo + 1));
}

static double runit(rng *r)
{
    return (double)(rnext(r) >> 11) * 0x1p-53;
}

/* ----------------------------------------------------------- languages ---- */

enum { L_VI, L_EN, L_FR, L_DE, L_ZH, N_LANG };
#define N_TOPIC 32
#define TOPIC_W 48
#define N_ENT 4
#define VOCAB 3000

struct ui {
    const char *code, *related, *mostread, *video, *ads[4], *rights, *addr, *tel, *credit,
        *caption, *page;
};

/* UI wording written for this generator (not taken from any site). */
static const struct ui UI[N_LANG] = {
    {"vi", "Tin cùng chuyên mục", "Được quan tâm nhất", "Video nổi bật",
     {"Quảng cáo", "Đang tải nội dung, xin đợi một chút...", "Bấm để xem thêm bình luận",
      "Chia sẻ qua mạng xã hội"},
     "Giữ bản quyền nội dung.", "Địa chỉ:", "Đường dây nóng:", "Theo", "Ảnh:", "Trang"},
    {"en", "Related stories", "Most read", "Watch now",
     {"Advertisement", "Loading, one moment please...", "Tap to show comments",
      "Share this story"},
     "All rights reserved.", "Address:", "Newsroom line:", "Source:", "Photo:", "Page"},
    {"fr", "À lire aussi", "Les plus lus", "Vidéos",
     {"Publicité", "Chargement en cours, patientez...", "Afficher les commentaires",
      "Partager l'article"},
     "Tous droits réservés.", "Adresse :", "Rédaction :", "Source :", "Photo :", "Page"},
    {"de", "Mehr zum Thema", "Meistgelesen", "Videos",
     {"Anzeige", "Wird geladen, bitte kurz warten …", "Kommentare anzeigen", "Artikel teilen"},
     "Alle Rechte vorbehalten.", "Anschrift:", "Redaktion:", "Quelle:", "Foto:", "Seite"},
    {"zh", "相关新闻", "热门文章", "视频",
     {"广告", "正在加载，请稍候……", "点击查看评论", "分享到社交网络"},
     "版权所有", "地址：", "热线：", "来源：", "图片：", "页"},
};

struct lang {
    int nospace;
    nd_buf pool;                       /* word texts */
    uint32_t off[VOCAB], len[VOCAB];   /* new-style (the normal form) */
    uint32_t aoff[VOCAB], alen[VOCAB]; /* Vietnamese old-style tones; same elsewhere */
    uint32_t topic[N_TOPIC][TOPIC_W];
    uint32_t ent_off[N_TOPIC][N_ENT], ent_len[N_TOPIC][N_ENT]; /* named entities */
    double logn;
};

/* Vietnamese vowels: a ă â e ê i o ô ơ u ư y with the six tones (none, grave, acute,
 * hook, tilde, dot), precomposed (NFC). */
static const char *const VT[12][6] = {
    {"a", "à", "á", "ả", "ã", "ạ"}, {"ă", "ằ", "ắ", "ẳ", "ẵ", "ặ"},
    {"â", "ầ", "ấ", "ẩ", "ẫ", "ậ"}, {"e", "è", "é", "ẻ", "ẽ", "ẹ"},
    {"ê", "ề", "ế", "ể", "ễ", "ệ"}, {"i", "ì", "í", "ỉ", "ĩ", "ị"},
    {"o", "ò", "ó", "ỏ", "õ", "ọ"}, {"ô", "ồ", "ố", "ổ", "ỗ", "ộ"},
    {"ơ", "ờ", "ớ", "ở", "ỡ", "ợ"}, {"u", "ù", "ú", "ủ", "ũ", "ụ"},
    {"ư", "ừ", "ứ", "ử", "ữ", "ự"}, {"y", "ỳ", "ý", "ỷ", "ỹ", "ỵ"},
};
static const char VKEY[] = "aAbeEioOPuUy"; /* A=ă b=â E=ê O=ô P=ơ U=ư */

/* Nuclei: vowels (VKEY letters), tone position with a final consonant / without one
 * in the new style / without one in the old style, final: 0 any, 1 required, 2 none. */
static const struct {
    const char *v;
    int pos_fin, pos_new, pos_old, fin;
} NUC[] = {
    {"a", 0, 0, 0, 0},   {"A", 0, 0, 0, 1},   {"b", 0, 0, 0, 1},   {"e", 0, 0, 0, 0},
    {"E", 0, 0, 0, 0},   {"i", 0, 0, 0, 0},   {"o", 0, 0, 0, 0},   {"O", 0, 0, 0, 0},
    {"P", 0, 0, 0, 0},   {"u", 0, 0, 0, 0},   {"U", 0, 0, 0, 0},   {"y", 0, 0, 0, 2},
    {"ai", 0, 0, 0, 2},  {"ao", 0, 0, 0, 2},  {"au", 0, 0, 0, 2},  {"ay", 0, 0, 0, 2},
    {"bu", 0, 0, 0, 2},  {"by", 0, 0, 0, 2},  {"eo", 0, 0, 0, 2},  {"Eu", 0, 0, 0, 2},
    {"ia", 0, 0, 0, 2},  {"iu", 0, 0, 0, 2},  {"oi", 0, 0, 0, 2},  {"Oi", 0, 0, 0, 2},
    {"Pi", 0, 0, 0, 2},  {"ua", 0, 0, 0, 2},  {"ui", 0, 0, 0, 2},  {"Ua", 0, 0, 0, 2},
    {"Ui", 0, 0, 0, 2},  {"Uu", 0, 0, 0, 2},  {"iE", 1, 1, 1, 1},  {"uO", 1, 1, 1, 1},
    {"UP", 1, 1, 1, 1},  {"uE", 1, 1, 1, 2},  {"oa", 1, 1, 0, 0},  {"oe", 1, 1, 0, 0},
    {"uy", 1, 1, 0, 2},  {"oa", 1, 1, 0, 2},  {"oe", 1, 1, 0, 2},  {"uy", 1, 1, 0, 2},
};
static const char *const VI_INIT[] = {"",  "b",  "c",  "ch", "d",   "đ",  "g",  "gh",
                                      "gi", "h", "k",  "kh", "l",   "m",  "n",  "ng",
                                      "ngh", "nh", "p", "ph", "qu", "r",  "s",  "t",
                                      "th", "tr", "v", "x",  "đ",   "t",  "l",  "h"};
static const char *const VI_FIN[] = {"", "c", "ch", "m", "n", "ng", "nh", "p", "t"};

static int vkey(char c)
{
    return (int)(strchr(VKEY, c) - VKEY);
}

/* One Vietnamese syllable, written twice: new-style and old-style tone placement. */
static int vi_syllable(rng *r, nd_buf *nw, nd_buf *old)
{
    for (;;) {
        const char *ini = VI_INIT[rbelow(r, sizeof VI_INIT / sizeof *VI_INIT)];
        int k = (int)rbelow(r, sizeof NUC / sizeof *NUC);
        const char *v = NUC[k].v;
        const char *fin = "";
        if (NUC[k].fin != 2 && (NUC[k].fin == 1 || rbelow(r, 2)))
            fin = VI_FIN[1 + rbelow(r, 8)];
        int front = v[0] == 'i' || v[0] == 'e' || v[0] == 'E' || v[0] == 'y';
        if ((!strcmp(ini, "k") || !strcmp(ini, "gh") || !strcmp(ini, "ngh")) && !front)
            continue;
        if ((!strcmp(ini, "c") || !strcmp(ini, "g") || !strcmp(ini, "ng")) && front)
            continue;
        if (!strcmp(ini, "qu") && (v[0] == 'u' || v[0] == 'o' || v[0] == 'U'))
            continue;
        if (!strcmp(ini, "gi") && v[0] == 'i')
            continue;
        if ((!strcmp(fin, "ch") || !strcmp(fin, "nh")) && strcmp(v, "a") && strcmp(v, "E") &&
            strcmp(v, "i") && strcmp(v, "oa"))
            continue;
        if (!strcmp(v, "oe") && *fin && strcmp(fin, "n") && strcmp(fin, "t"))
            continue;
        int stop = !strcmp(fin, "c") || !strcmp(fin, "ch") || !strcmp(fin, "p") ||
                   !strcmp(fin, "t");
        int tone = stop ? (rbelow(r, 2) ? 2 : 5) : (rbelow(r, 10) < 3 ? 0 : 1 + (int)rbelow(r, 5));
        int pn = *fin ? NUC[k].pos_fin : NUC[k].pos_new;
        int po = *fin ? NUC[k].pos_fin : NUC[k].pos_old;
        int rc = nd_buf_puts(nw, ini) || nd_buf_puts(old, ini);
        for (int i = 0; v[i] && !rc; i++) {
            rc = nd_buf_puts(nw, VT[vkey(v[i])][i == pn ? tone : 0]) ||
                 nd_buf_puts(old, VT[vkey(v[i])][i == po ? tone : 0]);
        }
        if (!rc)
            rc = nd_buf_puts(nw, fin) || nd_buf_puts(old, fin);
        return rc ? ND_ENOMEM : ND_OK;
    }
}

struct syl {
    const char *const *on, *const *nu, *const *co;
    size_t non, nnu, nco;
};
static const char *const EN_ON[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n",
                                    "p", "r", "s", "t", "v", "w", "st", "tr", "pl", "br",
                                    "ch", "sh", "th", "gr", "cl", "fr", "", "", "sp"};
static const char *const EN_NU[] = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "oo", "ie",
                                    "a", "e", "o", "i", "y"};
static const char *const EN_CO[] = {"", "", "", "n", "r", "s", "t", "l", "nd", "st",
                                    "ng", "ck", "m", "rt", "ss", "ld", "nt"};
static const char *const FR_ON[] = {"b", "c", "d", "f", "g", "j", "l", "m", "n", "p", "r",
                                    "s", "t", "v", "ch", "pr", "tr", "gr", "bl", "qu", "",
                                    "ç", "fl", "cr"};
static const char *const FR_NU[] = {"a", "e", "é", "è", "ê", "i", "o", "ou", "au", "eau",
                                    "ai", "oi", "u", "â", "î", "ô", "û", "ë", "ie", "a",
                                    "é", "e"};
static const char *const FR_CO[] = {"", "", "", "s", "t", "r", "nt", "x", "l", "n",
                                    "ment", "ion", "que", "re"};
static const char *const DE_ON[] = {"b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r",
                                    "s", "t", "w", "z", "sch", "st", "sp", "pf", "kr", "gr",
                                    "br", "tr", "", "fr", "kl"};
static const char *const DE_NU[] = {"a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au",
                                    "eu", "ie", "äu", "e", "a", "e"};
static const char *const DE_CO[] = {"", "", "n", "r", "s", "t", "ch", "ck", "ng", "ß",
                                    "tz", "nd", "lt", "rn", "st", "ll", "en", "er"};
#define SYL(a, b, c) {a, b, c, sizeof a / sizeof *a, sizeof b / sizeof *b, sizeof c / sizeof *c}
static const struct syl SYLS[3] = {SYL(EN_ON, EN_NU, EN_CO), SYL(FR_ON, FR_NU, FR_CO),
                                   SYL(DE_ON, DE_NU, DE_CO)};

static int put_cp(nd_buf *b, int32_t cp)
{
    uint8_t u[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, u);
    return nd_buf_append(b, u, (size_t)n);
}

/* One word of language l (new form to nw, old-style form to old). Frequent words
 * (low rank) are short, as in real languages. */
static int gen_word(int l, rng *r, size_t rank, nd_buf *nw, nd_buf *old)
{
    int rc = ND_OK;
    if (l == L_ZH) {
        int n = rank < 300 ? rrange(r, 1, 2) : rrange(r, 2, 3);
        for (int i = 0; i < n && !rc; i++) {
            int32_t cp = 0x4E00 + (int32_t)rbelow(r, 0x9FA5 - 0x4E00);
            rc = put_cp(nw, cp) || put_cp(old, cp);
        }
        return rc ? ND_ENOMEM : ND_OK;
    }
    if (l == L_VI)
        return vi_syllable(r, nw, old);
    const struct syl *s = &SYLS[l - L_EN];
    int n = rank < 150 ? 1 : rrange(r, 1, 3);
    for (int i = 0; i < n && !rc; i++) {
        const char *on = s->on[rbelow(r, (uint32_t)s->non)];
        const char *nu = s->nu[rbelow(r, (uint32_t)s->nnu)];
        const char *co = s->co[rbelow(r, (uint32_t)s->nco)];
        if (i == 0 && !strcmp(on, "ç"))
            on = "c";
        rc = nd_buf_puts(nw, on) || nd_buf_puts(nw, nu) || nd_buf_puts(nw, co) ||
             nd_buf_puts(old, on) || nd_buf_puts(old, nu) || nd_buf_puts(old, co);
    }
    return rc ? ND_ENOMEM : ND_OK;
}

/* Append s with its first character upper-cased. */
static int put_cap(nd_buf *b, const char *s, size_t len)
{
    int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const uint8_t *)s, (utf8proc_ssize_t)len, &cp);
    if (n <= 0)
        return nd_buf_append(b, s, len);
    int rc = put_cp(b, utf8proc_toupper(cp));
    return rc ? rc : nd_buf_append(b, s + n, len - (size_t)n);
}

static int lang_init(struct lang *L, int l, uint64_t seed)
{
    rng r;
    rng_seed(&r, seed, 0x1A9900ull + (uint64_t)l);
    memset(L, 0, sizeof *L);
    L->nospace = l == L_ZH;
    L->logn = log((double)VOCAB + 1);
    nd_buf nw = ND_BUF_INIT, old = ND_BUF_INIT;
    int rc = ND_OK;
    for (size_t i = 0; i < VOCAB && !rc; i++) {
        nd_buf_clear(&nw);
        nd_buf_clear(&old);
        rc = gen_word(l, &r, i, &nw, &old);
        if (!rc && l == L_VI && rbelow(&r, 4) == 0 && i > 200) {
            /* two-syllable words, written with a space as Vietnamese is */
            rc = nd_buf_putc(&nw, ' ') || nd_buf_putc(&old, ' ');
            if (!rc)
                rc = gen_word(l, &r, i, &nw, &old);
        }
        L->off[i] = (uint32_t)L->pool.len;
        L->len[i] = (uint32_t)nw.len;
        if (!rc)
            rc = nd_buf_append(&L->pool, nw.p, nw.len);
        L->aoff[i] = (uint32_t)L->pool.len;
        L->alen[i] = (uint32_t)old.len;
        if (!rc)
            rc = nd_buf_append(&L->pool, old.p, old.len);
    }
    for (int t = 0; t < N_TOPIC && !rc; t++) {
        for (int w = 0; w < TOPIC_W; w++)
            L->topic[t][w] = 100 + rbelow(&r, VOCAB - 100);
        for (int e = 0; e < N_ENT && !rc; e++) {
            /* a name: two or three capitalised generated words */
            L->ent_off[t][e] = (uint32_t)L->pool.len;
            int parts = l == L_VI ? 3 : l == L_ZH ? 1 : 2;
            for (int p = 0; p < parts && !rc; p++) {
                nd_buf_clear(&nw);
                nd_buf_clear(&old);
                rc = gen_word(l, &r, 1000, &nw, &old);
                if (!rc && p)
                    rc = nd_buf_putc(&L->pool, ' ');
                if (!rc)
                    rc = put_cap(&L->pool, nw.p, nw.len);
            }
            L->ent_len[t][e] = (uint32_t)L->pool.len - L->ent_off[t][e];
        }
    }
    nd_buf_free(&nw);
    nd_buf_free(&old);
    return rc ? nd_fail(ND_ENOMEM, "out of memory") : ND_OK;
}

/* Zipf-like rank: density about 1/x over the vocabulary. */
static uint32_t zipf(const struct lang *L, rng *r)
{
    uint32_t i = (uint32_t)exp(runit(r) * L->logn) - 1;
    return i < VOCAB ? i : VOCAB - 1;
}

/* ------------------------------------------------------------- articles ---- */

#define MAX_SENT 128
#define MAX_PARA 24

struct art {
    nd_buf title;
    nd_buf text;                       /* sentences back to back */
    uint32_t s_off[MAX_SENT], s_len[MAX_SENT];
    uint8_t s_para[MAX_SENT];
    int ns, np;
};

struct gen;

/* A sentence (or a title when title != 0). edit, when non-NULL, makes light edits
 * (a few words replaced or dropped) without disturbing the article's own stream. */
static int gen_sentence(const struct lang *L, rng *r, rng *edit, int topic, int old,
                        int title, nd_buf *out)
{
    int n = title ? rrange(r, 6, 12) : rrange(r, 8, 25);
    int first = 1, rc = ND_OK;
    for (int i = 0; i < n && !rc; i++) {
        uint32_t u = rbelow(r, 100);
        const char *w;
        size_t wl;
        int ent = 0;
        if (u < 5) {
            uint32_t e = rbelow(r, N_ENT);
            w = L->pool.p + L->ent_off[topic][e];
            wl = L->ent_len[topic][e];
            ent = 1;
        } else {
            uint32_t k = u < 30 ? L->topic[topic][rbelow(r, TOPIC_W)] : zipf(L, r);
            if (edit) {
                double e = runit(edit);
                if (e < 0.012)
                    k = UINT32_MAX; /* dropped word */
                else if (e < 0.045)
                    k = zipf(L, edit);
            }
            w = k == UINT32_MAX ? "" : L->pool.p + (old ? L->aoff[k] : L->off[k]);
            wl = k == UINT32_MAX ? 0 : old ? L->alen[k] : L->len[k];
        }
        /* drawn even for a dropped word: the article's stream must stay in step */
        int comma = !title && i + 1 < n && rbelow(r, 100) < 7;
        if (wl == 0)
            continue;
        if (!first && !L->nospace)
            rc = nd_buf_putc(out, ' ');
        if (!rc)
            rc = (first && !ent) ? put_cap(out, w, wl) : nd_buf_append(out, w, wl);
        if (!rc && comma)
            rc = nd_buf_puts(out, L->nospace ? "，" : ",");
        first = 0;
    }
    if (!rc && !title)
        rc = nd_buf_puts(out, L->nospace ? "。" : ".");
    return rc ? ND_ENOMEM : ND_OK;
}

/* The article `id` of topic `topic`: a title and 4-15 paragraphs of 2-6 sentences. */
static int gen_article(const struct lang *L, uint64_t seed, uint32_t id, int topic,
                       rng *edit, int old, struct art *a)
{
    rng r;
    rng_seed(&r, seed, 0xA27000000ull + id);
    nd_buf_clear(&a->title);
    nd_buf_clear(&a->text);
    a->ns = 0;
    int rc = gen_sentence(L, &r, NULL, topic, old, 1, &a->title);
    a->np = rrange(&r, 4, 15);
    for (int p = 0; p < a->np && !rc; p++) {
        int k = rrange(&r, 2, 6);
        for (int s = 0; s < k && !rc && a->ns < MAX_SENT; s++) {
            size_t o = a->text.len;
            rc = gen_sentence(L, &r, edit, topic, old, 0, &a->text);
            a->s_off[a->ns] = (uint32_t)o;
            a->s_len[a->ns] = (uint32_t)(a->text.len - o);
            a->s_para[a->ns] = (uint8_t)p;
            a->ns++;
        }
    }
    return rc ? nd_fail(ND_ENOMEM, "out of memory") : ND_OK;
}

/* Paragraph p of a as one string (sentences joined). */
static int art_para(const struct lang *L, const struct art *a, int p, nd_buf *out)
{
    int first = 1, rc = ND_OK;
    for (int s = 0; s < a->ns && !rc; s++) {
        if (a->s_para[s] != p)
            continue;
        if (!first && !L->nospace)
            rc = nd_buf_putc(out, ' ');
        if (!rc)
            rc = nd_buf_append(out, a->text.p + a->s_off[s], a->s_len[s]);
        first = 0;
    }
    return rc;
}

/* --------------------------------------------------------------- sites ---- */

enum { F_TXT, F_HTML, F_HTMLGZ, F_WARC, F_WARCGZ, N_FMT };
static const char *const FMT[N_FMT] = {"txt", "html", "html.gz", "warc", "warc.gz"};
static const char *const EXT[N_FMT] = {".txt", ".html", ".html.gz", ".warc", ".warc.gz"};

static const struct {
    const char *host, *name;
    int lang;
} SITES[] = {
    {"tin-nhanh.vn", "Tin Nhanh", L_VI},
    {"baomoi-24h.vn", "Báo Mới 24h", L_VI},
    {"thoisu-online.vn", "Thời Sự Online", L_VI},
    {"tonghop-tin.vn", "Tổng Hợp Tin", L_VI},
    {"dailyherald.example", "The Daily Herald", L_EN},
    {"metro-gazette.example", "Metro Gazette", L_EN},
    {"the-courier.example", "The Courier", L_EN},
    {"northern-post.example", "The Northern Post", L_EN},
    {"lequotidien.example.fr", "Le Quotidien", L_FR},
    {"journal-du-soir.example.fr", "Journal du Soir", L_FR},
    {"la-depeche-44.example.fr", "La Dépêche 44", L_FR},
    {"tagesblatt.example.de", "Tagesblatt", L_DE},
    {"rundschau-online.example.de", "Rundschau Online", L_DE},
    {"stadtanzeiger.example.de", "Stadtanzeiger", L_DE},
    {"xinwen-kuaibao.example.cn", "新闻快报", L_ZH},
    {"ribao-wang.example.cn", "日报网", L_ZH},
    {"kuaixun-wang.example.cn", "快讯网", L_ZH},
};
#define N_SITES ((int)(sizeof SITES / sizeof *SITES))
#define MAX_FIXED 40
#define MR_ITEMS 5
#define MR_PERIOD 120 /* site pages per "most read" period */

enum { T_HEADER, T_NAV, T_HEAD, T_MR, T_VIDEO, T_AD, T_FOOT };

struct warcw {
    FILE *f;
    int gz, nrec, target, nfile;
    char path[256];
};

struct site {
    int lang, style;
    char *fixed[MAX_FIXED];            /* template lines, extracted form */
    int kind[MAX_FIXED];
    int n_fixed;
    int nav0, n_nav, video0, n_video, ad0, n_ad, foot0, n_foot, head_rel, head_mr, head_vid;
    uint32_t fixed_count[MAX_FIXED];
    uint32_t *mr_count;                /* per period and slot */
    size_t mr_cap;
    uint32_t pages;                    /* pages carrying the template */
    struct warcw w[2];                 /* .warc, .warc.gz being filled */
};

/* ---------------------------------------------------------------- model ---- */

enum { R_ORIG, R_SYND, R_EXACT, R_MIRROR, R_FOLLOW, R_SAME, R_INDEX, R_NOISE, N_ROLE };
static const char *const ROLE[N_ROLE] = {"original", "syndicated", "exact",    "mirror",
                                         "follow_up", "same_topic", "index", "noise"};
enum { X_EDIT, X_TRUNC, X_CREDIT, X_TITLE, X_NFD, X_OLDTONE, X_ENT, X_REWRAP, X_CAPTION, N_X };
static const char *const XNAME[N_X] = {"light_edits", "truncation", "credit_line",
                                       "new_title", "nfd", "old_tones", "html_entities",
                                       "rewrap", "captions"};
enum { N_EMPTY, N_BINARY, N_TRUNCGZ, N_BADUTF8, N_LONG, N_NOISE };
static const char *const NOISE[N_NOISE] = {"empty", "binary", "truncated_gzip",
                                           "invalid_utf8", "long_line"};

/* The page as blocks, in order, each tagged with its role in the page; the HTML and
 * text writers render this list. */
enum { B_HEADER, B_NAV, B_TITLE, B_DATE, B_PARA, B_CAPTION, B_CREDIT, B_HEAD, B_LIST,
       B_VIDEO, B_AD, B_FOOT, B_INDEX };

struct blocks {
    nd_buf text;
    uint32_t off[512], len[512];
    uint8_t kind[512];
    int n;
};

/* Everything a page's bytes depend on: an exact re-crawl copies it whole. */
struct page {
    int site, role, fmt, topic, src_site, quote_topic;
    uint32_t article, quote_art, tf, period, src_doc, group;
    uint64_t pseed;
    int32_t day;
    int hh, mm;
};

struct pending {
    struct page p;
    uint32_t due;
};

struct gen {
    uint64_t seed;
    uint32_t ndocs;
    size_t long_line;
    const char *out;
    FILE *truth;
    struct lang lang[N_LANG];
    struct site site[N_SITES];
    rng r;
    uint32_t next_article, doc, next_x;
    uint32_t *doc_group;               /* article per document, UINT32_MAX: none */
    struct pending *q;                 /* copies waiting to be published, FIFO by due */
    size_t qh, qt, qcap;
    struct page recent[32];            /* recent article pages (exact re-crawls) */
    struct page recent_orig[32];       /* recent originals (mirrors, follow-ups, ...) */
    int n_recent, n_recent_orig;
    struct art a, b;
    nd_buf page, tmp, tmp2, rec, line, z;
    int site_of_lang[N_LANG][8], n_site_of_lang[N_LANG];
    struct blocks bl;
    z_stream zs;
    int zinit, counting;
    uint32_t noise_next;
    double debt[N_ROLE], rate[N_ROLE];
    uint64_t bytes[N_FMT], files, records;
    uint32_t role_n[N_ROLE], fmt_n[N_FMT], x_n[N_X], noise_n[N_NOISE];
};

static int mkdirs(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return nd_fail(ND_EIO, "%s: path too long", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return nd_fail(ND_EIO, "%s: %s", buf, strerror(errno));
        *p = '/';
    }
    return ND_OK;
}

/* days since 1970-01-01 to civil date (Howard Hinnant's algorithm) */
static void civil(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    int32_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint32_t doe = (uint32_t)(z - era * 146097);
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t yy = (int32_t)yoe + era * 400;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int site_add_fixed(struct site *s, int kind, nd_buf *text)
{
    if (s->n_fixed >= MAX_FIXED)
        return nd_fail(ND_EINTERNAL, "too many template lines");
    char *t = nd_buf_take(text);
    if (!t)
        return nd_fail(ND_ENOMEM, "out of memory");
    s->kind[s->n_fixed] = kind;
    s->fixed[s->n_fixed++] = t;
    return ND_OK;
}

/* A run of n generated words, first capitalised. */
static int words(const struct lang *L, rng *r, int n, nd_buf *out)
{
    int rc = ND_OK;
    for (int i = 0; i < n && !rc; i++) {
        uint32_t k = 20 + zipf(L, r) % (VOCAB - 20);
        if (i && !L->nospace)
            rc = nd_buf_putc(out, ' ');
        if (!rc)
            rc = i ? nd_buf_append(out, L->pool.p + L->off[k], L->len[k])
                   : put_cap(out, L->pool.p + L->off[k], L->len[k]);
    }
    return rc;
}

static int site_init(struct gen *g, int i)
{
    struct site *s = &g->site[i];
    const struct lang *L = &g->lang[SITES[i].lang];
    const struct ui *ui = &UI[SITES[i].lang];
    rng r;
    rng_seed(&r, g->seed, 0x517E00ull + (uint64_t)i);
    s->lang = SITES[i].lang;
    s->style = i % 4;
    nd_buf b = ND_BUF_INIT;
    int rc = nd_buf_printf(&b, "%s - ", SITES[i].name) || words(L, &r, rrange(&r, 3, 5), &b);
    if (!rc)
        rc = site_add_fixed(s, T_HEADER, &b);
    s->nav0 = s->n_fixed;
    s->n_nav = rrange(&r, 5, 10);
    for (int k = 0; k < s->n_nav && !rc; k++) {
        rc = words(L, &r, L->nospace ? 1 : rrange(&r, 1, 2), &b);
        if (!rc)
            rc = site_add_fixed(s, T_NAV, &b);
    }
    s->head_rel = s->n_fixed;
    if (!rc)
        rc = nd_buf_puts(&b, ui->related) || site_add_fixed(s, T_HEAD, &b);
    s->head_mr = s->n_fixed;
    if (!rc)
        rc = nd_buf_puts(&b, ui->mostread) || site_add_fixed(s, T_HEAD, &b);
    s->head_vid = s->n_fixed;
    if (!rc)
        rc = nd_buf_puts(&b, ui->video) || site_add_fixed(s, T_HEAD, &b);
    s->video0 = s->n_fixed;
    s->n_video = rrange(&r, 3, 4);
    for (int k = 0; k < s->n_video && !rc; k++) {
        rc = nd_buf_puts(&b, "▶ ") || words(L, &r, rrange(&r, 4, 8), &b);
        if (!rc)
            rc = site_add_fixed(s, T_VIDEO, &b);
    }
    s->ad0 = s->n_fixed;
    s->n_ad = 3;
    int skip = (int)rbelow(&r, 4);
    for (int k = 0; k < 4 && !rc; k++) {
        if (k == skip)
            continue;
        rc = nd_buf_puts(&b, ui->ads[k]) || site_add_fixed(s, T_AD, &b);
    }
    s->foot0 = s->n_fixed;
    s->n_foot = 3;
    if (!rc)
        rc = nd_buf_printf(&b, "© %d %s. %s", 2018 + i % 4, SITES[i].name, ui->rights) ||
             site_add_fixed(s, T_FOOT, &b);
    if (!rc) {
        rc = nd_buf_printf(&b, "%s %d ", ui->addr, rrange(&r, 1, 300)) ||
             words(L, &r, 2, &b) || nd_buf_puts(&b, L->nospace ? "，" : ", ") ||
             words(L, &r, 1, &b);
        if (!rc)
            rc = site_add_fixed(s, T_FOOT, &b);
    }
    if (!rc)
        rc = nd_buf_printf(&b, "%s 0%d %04d %04d - contact@%s", ui->tel, rrange(&r, 20, 99),
                           rrange(&r, 0, 9999), rrange(&r, 0, 9999), SITES[i].host) ||
             site_add_fixed(s, T_FOOT, &b);
    nd_buf_free(&b);
    return rc ? (rc == ND_ENOMEM ? nd_fail(ND_ENOMEM, "out of memory") : rc) : ND_OK;
}

/* ------------------------------------------------------------ rendering ---- */

static const char *const HTML_CLASSES[4][4] = {
    {"site-header", "main-nav", "article-body", "site-footer"},
    {"top", "menu", "content", "bottom"},
    {"hdr", "navigation", "detail", "ftr"},
    {"masthead", "nav-bar", "story", "page-footer"},
};

/* Escape text for HTML; with ent, also write some characters as character references
 * (named, decimal, hex), as copying sites' CMSs do. */
static int html_text(nd_buf *b, const char *s, size_t n, rng *ent)
{
    int rc = ND_OK;
    for (size_t i = 0; i < n && !rc;) {
        unsigned char c = (unsigned char)s[i];
        size_t e = i;
        /* bulk-copy the run of bytes that need nothing */
        while (e < n && s[e] != '&' && s[e] != '<' && s[e] != '>' &&
               (!ent || ((unsigned char)s[e] < 0x80 && s[e] != ' ')))
            e++;
        if (e > i) {
            rc = nd_buf_append(b, s + i, e - i);
            i = e;
            continue;
        }
        if (c == '&') {
            rc = nd_buf_puts(b, "&amp;");
            i++;
        } else if (c == '<') {
            rc = nd_buf_puts(b, "&lt;");
            i++;
        } else if (c == '>') {
            rc = nd_buf_puts(b, "&gt;");
            i++;
        } else if (c >= 0x80 && ent && rbelow(ent, 3) == 0) {
            int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate((const uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
            if (k <= 0) {
                rc = nd_buf_putc(b, (char)c);
                i++;
                continue;
            }
            static const struct {
                int32_t cp;
                const char *name;
            } named[] = {{0xE9, "eacute"}, {0xE8, "egrave"}, {0xE0, "agrave"},
                         {0xEA, "ecirc"},  {0xF4, "ocirc"},  {0xFC, "uuml"},
                         {0xF6, "ouml"},   {0xE4, "auml"},   {0xDF, "szlig"},
                         {0xE7, "ccedil"}, {0xE2, "acirc"},  {0xE3, "atilde"}};
            const char *nm = NULL;
            for (size_t j = 0; j < sizeof named / sizeof *named; j++)
                if (named[j].cp == cp)
                    nm = named[j].name;
            if (nm)
                rc = nd_buf_printf(b, "&%s;", nm);
            else if (rbelow(ent, 2))
                rc = nd_buf_printf(b, "&#%d;", (int)cp);
            else
                rc = nd_buf_printf(b, "&#x%X;", (unsigned)cp);
            i += (size_t)k;
        } else if (c == ' ' && ent && rbelow(ent, 40) == 0) {
            rc = nd_buf_puts(b, "&nbsp;");
            i++;
        } else {
            rc = nd_buf_putc(b, (char)c);
            i++;
        }
    }
    return rc;
}

static int nfd(nd_buf *io)
{
    uint8_t *d = NULL;
    utf8proc_ssize_t n = utf8proc_map((const uint8_t *)io->p, (utf8proc_ssize_t)io->len, &d,
                                      UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (n < 0)
        return ND_OK; /* not valid UTF-8: keep as is */
    nd_buf_clear(io);
    int rc = nd_buf_append(io, d, (size_t)n);
    free(d);
    return rc;
}

static int badd(struct blocks *bl, int kind, const char *s, size_t n)
{
    if (bl->n >= 512)
        return ND_OK;
    bl->off[bl->n] = (uint32_t)bl->text.len;
    bl->len[bl->n] = (uint32_t)n;
    bl->kind[bl->n] = (uint8_t)kind;
    bl->n++;
    return nd_buf_append(&bl->text, s, n);
}

static int badd_buf(struct blocks *bl, int kind, nd_buf *b)
{
    int rc = badd(bl, kind, b->p ? b->p : "", b->len);
    nd_buf_clear(b);
    return rc;
}

static int date_line(int lang, int32_t day, int hh, int mm, nd_buf *b)
{
    int y, m, d;
    civil(day, &y, &m, &d);
    switch (lang) {
    case L_VI: return nd_buf_printf(b, "%02d:%02d | %02d/%02d/%d", hh, mm, d, m, y);
    case L_EN: return nd_buf_printf(b, "Published %d-%02d-%02d %02d:%02d", y, m, d, hh, mm);
    case L_FR: return nd_buf_printf(b, "Publié le %02d/%02d/%d à %02dh%02d", d, m, y, hh, mm);
    case L_DE: return nd_buf_printf(b, "%02d.%02d.%d, %02d:%02d Uhr", d, m, y, hh, mm);
    default: return nd_buf_printf(b, "%d年%d月%d日 %02d:%02d", y, m, d, hh, mm);
    }
}

static int mark(struct gen *g, struct site *s, uint64_t *seen, int id)
{
    (void)g;
    (void)s;
    *seen |= 1ull << id;
    return ND_OK;
}

/* Titles of other (never published) articles of the site: vary per page. */
static int virtual_title(struct gen *g, int lang, uint64_t key, nd_buf *out)
{
    rng r;
    rng_seed(&r, g->seed, key);
    return gen_sentence(&g->lang[lang], &r, NULL, (int)rbelow(&r, N_TOPIC), 0, 1, out);
}

static int build_blocks(struct gen *g, const struct page *p, struct blocks *bl, int html)
{
    struct site *s = &g->site[p->site];
    const struct lang *L = &g->lang[s->lang];
    const struct ui *ui = &UI[s->lang];
    rng r, ed;
    rng_seed(&r, g->seed, p->pseed);
    rng_seed(&ed, g->seed, p->pseed ^ 0xED17ull);
    uint64_t seen = 0;
    nd_buf *t = &g->tmp;
    nd_buf_clear(&bl->text);
    nd_buf_clear(t);
    bl->n = 0;
    int rc = badd(bl, B_HEADER, s->fixed[0], strlen(s->fixed[0]));
    mark(g, s, &seen, 0);
    for (int k = 0; k < s->n_nav && !rc; k++) {
        rc = badd(bl, B_NAV, s->fixed[s->nav0 + k], strlen(s->fixed[s->nav0 + k]));
        mark(g, s, &seen, s->nav0 + k);
    }
    int old = (p->tf >> X_OLDTONE) & 1;
    if (!rc && p->role == R_INDEX) {
        int nav = s->nav0 + (int)rbelow(&r, (uint32_t)s->n_nav);
        rc = badd(bl, B_TITLE, s->fixed[nav], strlen(s->fixed[nav]));
        int n = rrange(&r, 15, 30);
        for (int k = 0; k < n && !rc; k++) {
            rc = virtual_title(g, s->lang, p->pseed * 64 + (uint64_t)k + 0x1D000000000ull, t);
            if (!rc)
                rc = badd_buf(bl, B_INDEX, t);
        }
        if (!rc) {
            rc = L->nospace ? nd_buf_printf(t, "第%d%s", rrange(&r, 2, 500), ui->page)
                            : nd_buf_printf(t, "%s %d", ui->page, rrange(&r, 2, 500));
            if (!rc)
                rc = badd_buf(bl, B_INDEX, t);
        }
    } else if (!rc) {
        rc = gen_article(L, g->seed, p->article, p->topic, (p->tf >> X_EDIT & 1) ? &ed : NULL,
                         old, &g->a);
        if (!rc && (p->tf >> X_TITLE & 1)) {
            nd_buf_clear(&g->a.title);
            rc = gen_sentence(L, &r, NULL, p->topic, old, 1, &g->a.title);
        }
        if (!rc) {
            rc = nd_buf_append(t, g->a.title.p, g->a.title.len);
            if (!rc && (p->tf >> X_NFD & 1))
                rc = nfd(t);
            if (!rc)
                rc = badd_buf(bl, B_TITLE, t);
        }
        if (!rc)
            rc = date_line(s->lang, p->day, p->hh, p->mm, t) || badd_buf(bl, B_DATE, t);
        /* paragraph grouping: the article's own, or re-chunked (rewrap in HTML) */
        struct art *a = &g->a;
        if ((p->tf >> X_REWRAP & 1) && html) {
            int para = 0;
            for (int k = 0; k < a->ns; k++) {
                if (k && rbelow(&r, 100) < 35)
                    para++;
                a->s_para[k] = (uint8_t)(para < MAX_PARA ? para : MAX_PARA - 1);
            }
            a->np = (para < MAX_PARA ? para : MAX_PARA - 1) + 1;
        }
        int np = a->np;
        if (p->tf >> X_TRUNC & 1)
            np = a->np * rrange(&r, 30, 70) / 100 > 0 ? a->np * rrange(&r, 30, 70) / 100 : 1;
        for (int k = 0; k < np && !rc; k++) {
            if (p->role == R_FOLLOW && k == 1) {
                /* exactly one paragraph of the earlier article, verbatim */
                rc = gen_article(L, g->seed, p->quote_art, p->quote_topic, NULL, 0, &g->b);
                if (!rc)
                    rc = art_para(L, &g->b, (int)(p->pseed % (uint64_t)g->b.np), t);
                if (!rc)
                    rc = badd_buf(bl, B_PARA, t);
            }
            rc = rc ? rc : art_para(L, a, k, t);
            if (!rc && (p->tf >> X_NFD & 1))
                rc = nfd(t);
            if (!rc && (p->tf >> X_REWRAP & 1) && !html) {
                /* hard-wrapped at about 72 columns: one text block per line */
                size_t st = 0, lim = L->nospace ? 72 : 72;
                while (!rc && st < t->len) {
                    size_t e = st + lim < t->len ? st + lim : t->len;
                    while (e < t->len && e > st && (L->nospace ? (t->p[e] & 0xC0) == 0x80 : t->p[e] != ' '))
                        e += L->nospace ? 1 : (size_t)-1;
                    if (e == st)
                        e = st + lim < t->len ? st + lim : t->len;
                    rc = badd(bl, B_PARA, t->p + st, e - st);
                    st = e;
                    while (st < t->len && t->p[st] == ' ')
                        st++;
                }
                nd_buf_clear(t);
            } else if (!rc) {
                rc = badd_buf(bl, B_PARA, t);
            }
            if (!rc && (p->tf >> X_CAPTION & 1) && rbelow(&r, 3) == 0) {
                rc = nd_buf_printf(t, "%s ", ui->caption) || words(L, &r, rrange(&r, 4, 9), t);
                if (!rc)
                    rc = badd_buf(bl, B_CAPTION, t);
            }
        }
        if (!rc && (p->tf >> X_CAPTION & 1)) {
            rc = nd_buf_printf(t, "%s ", ui->caption) || words(L, &r, rrange(&r, 4, 9), t);
            if (!rc)
                rc = badd_buf(bl, B_CAPTION, t);
        }
        if (!rc && (p->tf >> X_CREDIT & 1)) {
            int y, m, d;
            civil(p->day, &y, &m, &d);
            rc = nd_buf_printf(t, "%s %s (%02d/%02d/%d)", ui->credit, SITES[p->src_site].host,
                               d, m, y) ||
                 badd_buf(bl, B_CREDIT, t);
        }
    }
    /* the rest of the template */
    if (!rc && p->role != R_INDEX) {
        rc = badd(bl, B_HEAD, s->fixed[s->head_rel], strlen(s->fixed[s->head_rel]));
        mark(g, s, &seen, s->head_rel);
        int n = rrange(&r, 3, 5);
        for (int k = 0; k < n && !rc; k++) {
            rc = virtual_title(g, s->lang, p->pseed * 64 + (uint64_t)k + 0x4E1000000000ull, t);
            if (!rc)
                rc = badd_buf(bl, B_LIST, t);
        }
    }
    if (!rc && rbelow(&r, 100) < 85) {
        rc = badd(bl, B_HEAD, s->fixed[s->head_mr], strlen(s->fixed[s->head_mr]));
        mark(g, s, &seen, s->head_mr);
        if (s->mr_cap < (size_t)(p->period + 1) * MR_ITEMS) {
            size_t cap = (size_t)(p->period + 1) * MR_ITEMS * 2;
            uint32_t *v = realloc(s->mr_count, cap * sizeof *v);
            if (!v)
                return nd_fail(ND_ENOMEM, "out of memory");
            memset(v + s->mr_cap, 0, (cap - s->mr_cap) * sizeof *v);
            s->mr_count = v;
            s->mr_cap = cap;
        }
        for (int k = 0; k < MR_ITEMS && !rc; k++) {
            rc = virtual_title(g, s->lang,
                               ((uint64_t)p->site << 40) + (uint64_t)p->period * 8 + (uint64_t)k +
                                   0x3D0000000000000ull, t);
            if (!rc)
                rc = badd_buf(bl, B_LIST, t);
            s->mr_count[p->period * MR_ITEMS + (uint32_t)k] += g->counting;
        }
    }
    if (!rc && rbelow(&r, 100) < 70) {
        rc = badd(bl, B_HEAD, s->fixed[s->head_vid], strlen(s->fixed[s->head_vid]));
        mark(g, s, &seen, s->head_vid);
        for (int k = 0; k < s->n_video && !rc; k++) {
            rc = badd(bl, B_VIDEO, s->fixed[s->video0 + k], strlen(s->fixed[s->video0 + k]));
            mark(g, s, &seen, s->video0 + k);
        }
    }
    for (int k = 0; k < s->n_ad && !rc; k++) {
        if (rbelow(&r, 100) < 60) {
            rc = badd(bl, B_AD, s->fixed[s->ad0 + k], strlen(s->fixed[s->ad0 + k]));
            mark(g, s, &seen, s->ad0 + k);
        }
    }
    for (int k = 0; k < s->n_foot && !rc; k++) {
        rc = badd(bl, B_FOOT, s->fixed[s->foot0 + k], strlen(s->fixed[s->foot0 + k]));
        mark(g, s, &seen, s->foot0 + k);
    }
    if (g->counting) {
        for (int k = 0; k < s->n_fixed; k++)
            s->fixed_count[k] += (seen >> k) & 1;
        s->pages++;
    }
    return rc ? (rc == ND_ENOMEM ? nd_fail(ND_ENOMEM, "out of memory") : rc) : ND_OK;
}

static int render_txt(const struct blocks *bl, nd_buf *out)
{
    int rc = ND_OK;
    for (int i = 0; i < bl->n && !rc; i++) {
        rc = nd_buf_append(out, bl->text.p + bl->off[i], bl->len[i]);
        if (!rc)
            rc = nd_buf_putc(out, '\n');
    }
    return rc;
}

/* Paragraph text with a few inline tags at word boundaries. */
static int html_para(nd_buf *out, const char *s, size_t n, rng *r, rng *ent)
{
    size_t cut = n, cut2 = n;
    if (rbelow(r, 100) < 40) {
        cut = rbelow(r, (uint32_t)n);
        while (cut < n && s[cut] != ' ')
            cut++;
        cut2 = cut + 1;
        while (cut2 < n && s[cut2] != ' ')
            cut2++;
    }
    if (cut >= n || cut2 >= n)
        return html_text(out, s, n, ent);
    static const char *const open[] = {"<b>", "<em>", "<a href=\"/tag/x\">", "<strong>"};
    static const char *const close[] = {"</b>", "</em>", "</a>", "</strong>"};
    uint32_t k = rbelow(r, 4);
    return html_text(out, s, cut + 1, ent) || nd_buf_puts(out, open[k]) ||
           html_text(out, s + cut + 1, cut2 - cut - 1, ent) || nd_buf_puts(out, close[k]) ||
           html_text(out, s + cut2, n - cut2, ent);
}

enum { C_NONE, C_NAV, C_ART, C_ASIDE, C_LIST, C_FOOT };

static int container(int kind)
{
    switch (kind) {
    case B_NAV: return C_NAV;
    case B_TITLE: case B_DATE: case B_PARA: case B_CAPTION: case B_CREDIT: return C_ART;
    case B_HEAD: case B_LIST: case B_VIDEO: return C_ASIDE;
    case B_INDEX: return C_LIST;
    case B_FOOT: return C_FOOT;
    default: return C_NONE;
    }
}

static int html_close(nd_buf *out, int c)
{
    static const char *const end[] = {"", "</ul></nav>\n", "</article>\n", "</ul></aside>\n",
                                      "</ul></section>\n", "</footer>\n"};
    return nd_buf_puts(out, end[c]);
}

/* Real markup around the blocks: every block ends at a block-level element, so the
 * extractor gives back exactly the block texts (entities decoded, inline tags gone). */
static int render_html(struct gen *g, const struct page *p, const struct blocks *bl,
                       nd_buf *out)
{
    const struct site *s = &g->site[p->site];
    const char *const *cl = HTML_CLASSES[s->style];
    rng r, ent;
    rng_seed(&r, g->seed, p->pseed ^ 0x47A1ull);
    rng_seed(&ent, g->seed, p->pseed ^ 0xE471ull);
    rng *pe = (p->tf >> X_ENT & 1) ? &ent : NULL;
    int rc = nd_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
                                "<meta charset=\"utf-8\">\n<title>", UI[s->lang].code);
    for (int i = 0; i < bl->n && !rc; i++)
        if (bl->kind[i] == B_TITLE)
            rc = html_text(out, bl->text.p + bl->off[i], bl->len[i], NULL);
    if (!rc)
        rc = nd_buf_printf(out, " | %s</title>\n<style>.%s{margin:0 auto;max-width:960px}</style>\n"
                                "<script>window.dataLayer=window.dataLayer||[];var pid=\"<p>\";</script>\n"
                                "</head>\n<body>\n<!-- page %u -->\n",
                           SITES[p->site].name, cl[2], (unsigned)(p->pseed & 0xFFFFF));
    int open = C_NONE;
    for (int i = 0; i < bl->n && !rc; i++) {
        int k = bl->kind[i], c = container(k);
        const char *t = bl->text.p + bl->off[i];
        size_t n = bl->len[i];
        if (c != open || k == B_HEAD) {
            rc = html_close(out, open);
            open = c;
            if (!rc && c == C_NAV)
                rc = nd_buf_printf(out, "<nav class=\"%s\"><ul>", cl[1]);
            else if (!rc && c == C_ART)
                rc = nd_buf_printf(out, "<article class=\"%s\">\n", cl[2]);
            else if (!rc && c == C_LIST)
                rc = nd_buf_puts(out, "<section class=\"list\"><ul>");
            else if (!rc && c == C_FOOT)
                rc = nd_buf_printf(out, "<footer class=\"%s\">\n", cl[3]);
            else if (!rc && c == C_ASIDE && k != B_HEAD)
                rc = nd_buf_puts(out, "<aside><ul>");
        }
        if (rc)
            break;
        switch (k) {
        case B_HEADER:
            rc = nd_buf_printf(out, "<header class=\"%s\"><div class=\"logo\"><a href=\"/\">", cl[0]) ||
                 html_text(out, t, n, NULL) || nd_buf_puts(out, "</a></div></header>\n");
            break;
        case B_NAV:
            rc = nd_buf_printf(out, "<li><a href=\"/c%d/\">", i) || html_text(out, t, n, NULL) ||
                 nd_buf_puts(out, "</a></li>");
            break;
        case B_TITLE:
            rc = nd_buf_puts(out, "<h1 class=\"title\">") || html_text(out, t, n, pe) ||
                 nd_buf_puts(out, "</h1>\n");
            break;
        case B_DATE:
            rc = nd_buf_puts(out, "<div class=\"date\"><span>") || html_text(out, t, n, NULL) ||
                 nd_buf_puts(out, "</span></div>\n");
            break;
        case B_PARA:
            rc = nd_buf_puts(out, "<p>") || html_para(out, t, n, &r, pe) ||
                 nd_buf_puts(out, "</p>\n");
            break;
        case B_CAPTION:
            rc = nd_buf_puts(out, "<figure><img src=\"/img/p.jpg\" alt=\"\"><figcaption>") ||
                 html_text(out, t, n, pe) || nd_buf_puts(out, "</figcaption></figure>\n");
            break;
        case B_CREDIT:
            rc = nd_buf_puts(out, "<p class=\"source\"><em>") || html_text(out, t, n, NULL) ||
                 nd_buf_puts(out, "</em></p>\n");
            break;
        case B_HEAD:
            rc = nd_buf_puts(out, "<aside><h3>") || html_text(out, t, n, NULL) ||
                 nd_buf_puts(out, "</h3><ul>");
            break;
        case B_LIST:
        case B_VIDEO:
        case B_INDEX:
            rc = nd_buf_printf(out, "<li><a href=\"/a/%u.html\">", (unsigned)rbelow(&r, 1000000)) ||
                 html_text(out, t, n, NULL) || nd_buf_puts(out, "</a></li>");
            break;
        case B_AD:
            rc = nd_buf_puts(out, "<div class=\"ad-slot\"><span>") || html_text(out, t, n, NULL) ||
                 nd_buf_puts(out, "</span></div>\n");
            break;
        case B_FOOT:
            /* the copyright sign as most sites write it: a named reference */
            if (n >= 2 && !memcmp(t, "\xC2\xA9", 2)) {
                rc = nd_buf_puts(out, "<p>&copy;") || html_text(out, t + 2, n - 2, NULL) ||
                     nd_buf_puts(out, "</p>\n");
                break;
            }
            rc = nd_buf_puts(out, "<p>") || html_text(out, t, n, NULL) || nd_buf_puts(out, "</p>\n");
            break;
        }
    }
    if (!rc)
        rc = html_close(out, open);
    if (!rc)
        rc = nd_buf_puts(out, "</body>\n</html>\n");
    return rc;
}

/* -------------------------------------------------------------- writers ---- */

/* gzip of data into g->z: level 1 (speed), header mtime 0 (determinism). */
static int gzip_buf(struct gen *g, const char *data, size_t len)
{
    if (!g->zinit) {
        memset(&g->zs, 0, sizeof g->zs);
        if (deflateInit2(&g->zs, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return nd_fail(ND_ENOMEM, "zlib init failed");
        g->zinit = 1;
    } else {
        deflateReset(&g->zs);
    }
    nd_buf_clear(&g->z);
    size_t bound = deflateBound(&g->zs, (uLong)len) + 64;
    if (nd_buf_reserve(&g->z, bound))
        return ND_ENOMEM;
    g->zs.next_in = (Bytef *)(uintptr_t)data;
    g->zs.avail_in = (uInt)len;
    g->zs.next_out = (Bytef *)g->z.p;
    g->zs.avail_out = (uInt)bound;
    if (deflate(&g->zs, Z_FINISH) != Z_STREAM_END)
        return nd_fail(ND_EINTERNAL, "deflate failed");
    g->z.len = bound - g->zs.avail_out;
    return ND_OK;
}

static int write_file(struct gen *g, const char *rel, const char *data, size_t len, int fmt)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g->out, rel);
    int rc = mkdirs(path);
    if (rc)
        return rc;
    FILE *f = fopen(path, "wb");
    if (!f)
        return nd_fail(ND_EIO, "%s: %s", path, strerror(errno));
    if (len && fwrite(data, 1, len, f) != len)
        rc = nd_fail(ND_EIO, "%s: write failed", path);
    if (fclose(f) != 0 && !rc)
        rc = nd_fail(ND_EIO, "%s: write failed", path);
    g->bytes[fmt] += len;
    g->files++;
    return rc;
}

static void uuid(struct gen *g, char out[48])
{
    uint64_t a = rnext(&g->r), b = rnext(&g->r);
    snprintf(out, 48, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xFFFF, (unsigned)a & 0xFFF, (unsigned)(b >> 52) & 0xFFF,
             (unsigned long long)(b & 0xFFFFFFFFFFFFull));
}

static void iso_date(int32_t day, int hh, int mm, char out[32])
{
    int y, m, d;
    civil(day, &y, &m, &d);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, hh, mm, (hh * 7 + mm) % 60);
}

/* One WARC record (one gzip member each in .warc.gz). Returns its index in the file. */
static int warc_record(struct gen *g, struct warcw *w, const char *type, const char *uri,
                       const char *date, const char *ctype, const char *extra,
                       const char *block, size_t blen, int fmt)
{
    char id[48];
    uuid(g, id);
    nd_buf *r = &g->rec;
    nd_buf_clear(r);
    int rc = nd_buf_printf(r, "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Record-ID: <urn:uuid:%s>\r\n"
                              "WARC-Date: %s\r\n", type, id, date);
    if (!rc && uri)
        rc = nd_buf_printf(r, "WARC-Target-URI: %s\r\n", uri);
    if (!rc && extra)
        rc = nd_buf_puts(r, extra);
    if (!rc)
        rc = nd_buf_printf(r, "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", ctype, blen) ||
             nd_buf_append(r, block, blen) || nd_buf_puts(r, "\r\n\r\n");
    if (rc)
        return nd_fail(ND_ENOMEM, "out of memory");
    const char *d = r->p;
    size_t n = r->len;
    if (w->gz) {
        if ((rc = gzip_buf(g, r->p, r->len)))
            return rc;
        d = g->z.p;
        n = g->z.len;
    }
    if (fwrite(d, 1, n, w->f) != n)
        return nd_fail(ND_EIO, "%s: write failed", w->path);
    g->bytes[fmt] += n;
    g->records++;
    return w->nrec++;
}

static int warc_close(struct warcw *w)
{
    if (!w->f)
        return ND_OK;
    int rc = fclose(w->f) != 0 ? nd_fail(ND_EIO, "%s: write failed", w->path) : ND_OK;
    w->f = NULL;
    return rc;
}

/* The site's current WARC file of this kind, opened (with its warcinfo record) when
 * needed; files hold 200-500 records. */
static int warc_get(struct gen *g, int site, int gz, struct warcw **out)
{
    struct warcw *w = &g->site[site].w[gz];
    int rc;
    if (w->f && w->nrec >= w->target && (rc = warc_close(w)))
        return rc;
    if (!w->f) {
        w->gz = gz;
        w->nrec = 0;
        w->target = rrange(&g->r, 200, 500);
        snprintf(w->path, sizeof w->path, "%s/crawl/%s-%05d%s", SITES[site].host, SITES[site].host,
                 w->nfile++, gz ? ".warc.gz" : ".warc");
        char path[1280];
        snprintf(path, sizeof path, "%s/%s", g->out, w->path);
        if ((rc = mkdirs(path)))
            return rc;
        w->f = fopen(path, "wb");
        if (!w->f)
            return nd_fail(ND_EIO, "%s: %s", path, strerror(errno));
        g->files++;
        static const char info[] = "software: neardup-gen/1\r\nformat: WARC File Format 1.0\r\n"
                                   "description: synthetic crawl\r\n";
        rc = warc_record(g, w, "warcinfo", NULL, "2019-01-01T00:00:00Z", "application/warc-fields",
                         NULL, info, sizeof info - 1, gz ? F_WARCGZ : F_WARC);
        if (rc < 0)
            return rc;
    }
    *out = w;
    return ND_OK;
}

/* A response record for the page, with request/metadata/revisit records around it
 * that readers must skip. Returns the response's record index. */
static int warc_page(struct gen *g, int site, int gz, const char *uri, const char *date,
                     const char *html, size_t len)
{
    struct warcw *w = NULL;
    int fmt = gz ? F_WARCGZ : F_WARC, rc = warc_get(g, site, gz, &w);
    if (rc)
        return rc;
    nd_buf *h = &g->tmp2;
    nd_buf_clear(h);
    const char *path = strchr(uri + 8, '/');
    if (rbelow(&g->r, 100) < 60) {
        if (nd_buf_printf(h, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: neardup-gen\r\n\r\n",
                          path, SITES[site].host))
            return nd_fail(ND_ENOMEM, "out of memory");
        if ((rc = warc_record(g, w, "request", uri, date, "application/http; msgtype=request",
                              NULL, h->p, h->len, fmt)) < 0)
            return rc;
        nd_buf_clear(h);
    }
    if (nd_buf_printf(h, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Length: %zu\r\nServer: gen\r\n\r\n", len) ||
        nd_buf_append(h, html, len))
        return nd_fail(ND_ENOMEM, "out of memory");
    int idx = warc_record(g, w, "response", uri, date, "application/http; msgtype=response",
                          NULL, h->p, h->len, fmt);
    if (idx < 0)
        return idx;
    if (rbelow(&g->r, 100) < 25) {
        static const char meta[] = "via: https://index.example/\r\nfetchTimeMs: 212\r\n";
        if ((rc = warc_record(g, w, "metadata", uri, date, "application/warc-fields", NULL, meta,
                              sizeof meta - 1, fmt)) < 0)
            return rc;
    }
    if (rbelow(&g->r, 100) < 8) {
        /* the same URI fetched again, unchanged: a revisit, no payload */
        char extra[1024];
        snprintf(extra, sizeof extra,
                 "WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest\r\n"
                 "WARC-Refers-To-Target-URI: %s\r\n", uri);
        static const char hdr[] = "HTTP/1.1 304 Not Modified\r\nServer: gen\r\n\r\n";
        if ((rc = warc_record(g, w, "revisit", uri, date, "application/http; msgtype=response",
                              extra, hdr, sizeof hdr - 1, fmt)) < 0)
            return rc;
    }
    return idx;
}

/* ---------------------------------------------------------------- truth ---- */

static int truth_doc(struct gen *g, const struct page *p, const char *path, const char *uri,
                     int record, int noise, uint32_t article)
{
    nd_buf *b = &g->line;
    nd_buf_clear(b);
    int y, m, d;
    civil(p->day, &y, &m, &d);
    int rc = nd_buf_puts(b, g->doc ? ",\n{\"path\":" : "\n{\"path\":") || nd_json_cstr(b, path) ||
             nd_buf_puts(b, ",\"uri\":") || nd_json_cstr(b, uri);
    if (!rc)
        rc = record >= 0 ? nd_buf_printf(b, ",\"record\":%d", record)
                         : nd_buf_puts(b, ",\"record\":null");
    if (!rc)
        rc = nd_buf_puts(b, ",\"site\":") || nd_json_cstr(b, SITES[p->site].host) ||
             nd_buf_printf(b, ",\"language\":\"%s\",\"format\":\"%s\",\"role\":\"%s\"",
                           UI[g->site[p->site].lang].code, FMT[p->fmt], ROLE[p->role]);
    if (!rc)
        rc = article != UINT32_MAX ? nd_buf_printf(b, ",\"article\":%u", article)
                                   : nd_buf_puts(b, ",\"article\":null");
    if (!rc)
        rc = nd_buf_puts(b, ",\"transforms\":[");
    for (int x = 0, first = 1; x < N_X && !rc; x++) {
        if (!(p->tf >> x & 1))
            continue;
        rc = nd_buf_printf(b, "%s\"%s\"", first ? "" : ",", XNAME[x]);
        first = 0;
    }
    if (!rc)
        rc = p->group != UINT32_MAX ? nd_buf_printf(b, "],\"group\":%u", p->group)
                                    : nd_buf_puts(b, "],\"group\":null");
    if (!rc)
        rc = noise >= 0 ? nd_buf_printf(b, ",\"noise\":\"%s\"", NOISE[noise])
                        : nd_buf_puts(b, ",\"noise\":null");
    if (!rc && p->role == R_EXACT)
        rc = nd_buf_printf(b, ",\"source\":%u", p->src_doc);
    if (!rc && p->role == R_FOLLOW)
        rc = nd_buf_printf(b, ",\"quotes\":%u", p->quote_art);
    if (!rc && (p->role == R_SYND || p->role == R_MIRROR))
        rc = nd_buf_puts(b, ",\"from\":") || nd_json_cstr(b, SITES[p->src_site].host);
    if (!rc)
        rc = nd_buf_printf(b, ",\"date\":\"%04d-%02d-%02d\"}", y, m, d);
    if (rc)
        return nd_fail(ND_ENOMEM, "out of memory");
    if (fwrite(b->p, 1, b->len, g->truth) != b->len)
        return nd_fail(ND_EIO, "truth: write failed");
    g->doc_group[g->doc] = p->group;
    g->role_n[p->role]++;
    g->fmt_n[p->fmt]++;
    for (int x = 0; x < N_X; x++)
        g->x_n[x] += p->tf >> x & 1;
    if (noise >= 0)
        g->noise_n[noise]++;
    return ND_OK;
}

/* ---------------------------------------------------------------- pages ---- */

static void page_rel(const struct gen *g, const struct page *p, char *out, size_t n)
{
    int y, m, d;
    civil(p->day, &y, &m, &d);
    snprintf(out, n, "%s/%04d/%02d/%s%06u%s", SITES[p->site].host, y, m,
             p->role == R_INDEX ? "list-" : "a", g->doc, EXT[p->fmt]);
}

/* Render and store one page (any role but noise), and its truth line. */
static int emit_page(struct gen *g, const struct page *p)
{
    int html = p->fmt != F_TXT, rc;
    if ((rc = build_blocks(g, p, &g->bl, html)))
        return rc;
    nd_buf_clear(&g->page);
    rc = html ? render_html(g, p, &g->bl, &g->page) : render_txt(&g->bl, &g->page);
    if (rc)
        return nd_fail(ND_ENOMEM, "out of memory");
    char rel[512], uri[512];
    int record = -1;
    const char *u = NULL;
    page_rel(g, p, rel, sizeof rel);
    if (p->fmt == F_WARC || p->fmt == F_WARCGZ) {
        int y, m, d;
        char date[32];
        civil(p->day, &y, &m, &d);
        iso_date(p->day, p->hh, p->mm, date);
        snprintf(uri, sizeof uri, "https://%s/%04d/%02d/%s%06u.html", SITES[p->site].host, y, m,
                 p->role == R_INDEX ? "list-" : p->role == R_EXACT ? "amp/a" : "a", g->doc);
        record = warc_page(g, p->site, p->fmt == F_WARCGZ, uri, date, g->page.p, g->page.len);
        if (record < 0)
            return record;
        snprintf(rel, sizeof rel, "%s", g->site[p->site].w[p->fmt == F_WARCGZ].path);
        u = uri;
    } else if (p->fmt == F_HTMLGZ) {
        if ((rc = gzip_buf(g, g->page.p, g->page.len)) ||
            (rc = write_file(g, rel, g->z.p, g->z.len, p->fmt)))
            return rc;
    } else if ((rc = write_file(g, rel, g->page.p, g->page.len, p->fmt))) {
        return rc;
    }
    uint32_t art = p->role == R_INDEX ? UINT32_MAX : p->article;
    return truth_doc(g, p, rel, u, record, -1, art);
}

/* A noise file: empty, binary, truncated gzip, invalid UTF-8, or one enormous line. */
static int emit_noise(struct gen *g, struct page *p, int kind)
{
    char rel[512];
    int rc = ND_OK;
    static const int fmt[N_NOISE] = {F_TXT, F_HTML, F_HTMLGZ, F_TXT, F_TXT};
    p->fmt = fmt[kind];
    snprintf(rel, sizeof rel, "%s/misc/%s%06u%s", SITES[p->site].host,
             (const char *[]){"empty", "blob", "cut", "raw", "dump"}[kind], g->doc, EXT[p->fmt]);
    nd_buf *b = &g->page;
    nd_buf_clear(b);
    const struct lang *L = &g->lang[g->site[p->site].lang];
    switch (kind) {
    case N_EMPTY:
        rc = write_file(g, rel, "", 0, p->fmt);
        break;
    case N_BINARY: {
        rc = nd_buf_append(b, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
        int n = rrange(&g->r, 4096, 12288);
        for (int i = 0; i < n && !rc; i++)
            rc = nd_buf_putc(b, (char)(rnext(&g->r) >> 56));
        rc = rc ? nd_fail(ND_ENOMEM, "out of memory") : write_file(g, rel, b->p, b->len, p->fmt);
        break;
    }
    case N_TRUNCGZ:
    case N_BADUTF8:
        /* a cut gzip hides part of its template from the reader; a page with stray
         * bytes in its paragraphs still shows all of it */
        g->counting = kind == N_BADUTF8;
        rc = build_blocks(g, p, &g->bl, kind == N_TRUNCGZ);
        g->counting = 1;
        if (rc)
            break;
        if (kind == N_BADUTF8) {
            static const char *const bad[] = {"\xFF", "\xC3", "\xED\xA0\x80", "\xE2\x82", "\x80\x80"};
            for (int i = 0; i < g->bl.n && !rc; i++) {
                rc = nd_buf_append(b, g->bl.text.p + g->bl.off[i], g->bl.len[i]);
                if (!rc && g->bl.kind[i] == B_PARA)
                    rc = nd_buf_puts(b, bad[rbelow(&g->r, 5)]);
                if (!rc)
                    rc = nd_buf_putc(b, '\n');
            }
            rc = rc ? nd_fail(ND_ENOMEM, "out of memory") : write_file(g, rel, b->p, b->len, p->fmt);
        } else {
            if (render_html(g, p, &g->bl, b))
                return nd_fail(ND_ENOMEM, "out of memory");
            if ((rc = gzip_buf(g, b->p, b->len)))
                break;
            size_t cut = g->z.len * (size_t)rrange(&g->r, 40, 70) / 100;
            rc = write_file(g, rel, g->z.p, cut, p->fmt);
        }
        break;
    case N_LONG: {
        rng r;
        rng_seed(&r, g->seed, p->pseed);
        if (g->noise_n[N_LONG] % 2 == 0) {
            /* a minified page: the whole HTML on one line, its comment thread a megabyte
             * of sentences drawn from a few dozen (so the .gz stays small on disk) */
            p->fmt = F_HTMLGZ;
            snprintf(rel, sizeof rel, "%s/misc/min%06u.html.gz", SITES[p->site].host, g->doc);
            rc = nd_buf_puts(b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
            rc = rc || gen_sentence(L, &r, NULL, p->topic, 0, 1, b) ||
                 nd_buf_puts(b, "</title></head><body><div class=\"comments\"><p>");
            uint64_t pool = rnext(&r);
            while (!rc && b->len < g->long_line) {
                rng s;
                rng_seed(&s, pool, rbelow(&r, 40));
                rc = gen_sentence(L, &s, NULL, p->topic, 0, 0, b) || nd_buf_putc(b, ' ');
            }
            rc = rc || nd_buf_puts(b, "</p></div></body></html>\n");
            if (rc) {
                rc = nd_fail(ND_ENOMEM, "out of memory");
                break;
            }
            if ((rc = gzip_buf(g, b->p, b->len)))
                break;
            rc = write_file(g, rel, g->z.p, g->z.len, p->fmt);
            break;
        }
        rc = gen_sentence(L, &r, NULL, p->topic, 0, 1, b) || nd_buf_putc(b, '\n');
        /* a text dump: a megabyte of sentences with no line break */
        while (!rc && b->len < g->long_line)
            rc = gen_sentence(L, &r, NULL, p->topic, 0, 0, b) || nd_buf_putc(b, ' ');
        if (!rc)
            rc = nd_buf_puts(b, "\nEOF\n");
        rc = rc ? nd_fail(ND_ENOMEM, "out of memory") : write_file(g, rel, b->p, b->len, p->fmt);
        break;
    }
    }
    if (rc)
        return rc;
    p->role = R_NOISE;
    p->group = UINT32_MAX;
    p->tf = 0;
    return truth_doc(g, p, rel, NULL, -1, kind, UINT32_MAX);
}

/* ----------------------------------------------------------------- model ---- */

static int pick_fmt(struct gen *g, int need_html)
{
    static const int w[N_FMT] = {25, 25, 15, 10, 25};
    for (;;) {
        uint32_t u = rbelow(&g->r, 100);
        int f = 0;
        while (u >= (uint32_t)w[f]) {
            u -= (uint32_t)w[f];
            f++;
        }
        if (!need_html || f != F_TXT)
            return f;
    }
}

static int other_site(struct gen *g, int site)
{
    int l = SITES[site].lang, n = g->n_site_of_lang[l];
    if (n < 2)
        return site;
    int k = g->site_of_lang[l][rbelow(&g->r, (uint32_t)n - 1)];
    return k == site ? g->site_of_lang[l][n - 1] : k;
}

static int x_applies(int x, int lang, int fmt)
{
    if (x == X_OLDTONE)
        return lang == L_VI;
    if (x == X_NFD)
        return lang == L_VI || lang == L_FR || lang == L_DE;
    if (x == X_ENT)
        return fmt != F_TXT;
    return 1;
}

static void page_time(struct gen *g, struct page *p)
{
    p->day = 17897 + (int32_t)((uint64_t)g->doc * 1826 / g->ndocs);
    p->hh = rrange(&g->r, 0, 23);
    p->mm = rrange(&g->r, 0, 59);
    p->pseed = rnext(&g->r);
    p->period = g->site[p->site].pages / MR_PERIOD;
}

static int push_copy(struct gen *g, const struct page *c, uint32_t due)
{
    if (g->qt == g->qcap) {
        if (g->qh > 0) {
            memmove(g->q, g->q + g->qh, (g->qt - g->qh) * sizeof *g->q);
            g->qt -= g->qh;
            g->qh = 0;
        } else {
            size_t cap = g->qcap ? g->qcap * 2 : 256;
            struct pending *v = realloc(g->q, cap * sizeof *v);
            if (!v)
                return nd_fail(ND_ENOMEM, "out of memory");
            g->q = v;
            g->qcap = cap;
        }
    }
    if (g->qt > g->qh && g->q[g->qt - 1].due > due)
        due = g->q[g->qt - 1].due; /* FIFO stays ordered by due */
    g->q[g->qt].p = *c;
    g->q[g->qt].due = due;
    g->qt++;
    return ND_OK;
}

/* An original gets syndicated copies now and then: 1-4, each on another site of its
 * language, published a little later, each with one to three transforms. The first
 * transform cycles through all of them so that even a small crawl has each one. */
static int schedule_copies(struct gen *g, const struct page *o)
{
    if (rbelow(&g->r, 100) >= 20)
        return ND_OK;
    int n = rrange(&g->r, 1, 4), rc = ND_OK, lang = SITES[o->site].lang;
    /* each copy on a different site: one site republishing an article five times would
     * turn its paragraphs into that site's boilerplate */
    int others[8], no = 0;
    for (int k = 0; k < g->n_site_of_lang[lang]; k++)
        if (g->site_of_lang[lang][k] != o->site)
            others[no++] = g->site_of_lang[lang][k];
    for (int k = no - 1; k > 0; k--) {
        int j = (int)rbelow(&g->r, (uint32_t)k + 1), t = others[k];
        others[k] = others[j];
        others[j] = t;
    }
    n = n < no ? n : no;
    for (int i = 0; i < n && !rc; i++) {
        struct page c = *o;
        c.role = R_SYND;
        c.src_site = o->site;
        c.site = others[i];
        c.tf = 0;
        for (int j = 0; j < N_X; j++) {
            int x = (int)((g->next_x + (uint32_t)j) % N_X);
            if (x_applies(x, lang, F_HTML)) {
                c.tf |= 1u << x;
                if (j == 0)
                    g->next_x++;
                break;
            }
        }
        for (int x = 0; x < N_X; x++)
            if (x_applies(x, lang, F_HTML) && rbelow(&g->r, 100) < 15)
                c.tf |= 1u << x;
        c.fmt = pick_fmt(g, (int)(c.tf >> X_ENT & 1));
        rc = push_copy(g, &c, g->doc + (uint32_t)rrange(&g->r, 1, 15));
    }
    return rc;
}

static void remember(struct page *ring, int *n, const struct page *p, rng *r)
{
    if (*n < 32)
        ring[(*n)++] = *p;
    else
        ring[rbelow(r, 32)] = *p;
}

/* Rates of the roles drawn by quota (share of documents), with a floor so that a small
 * crawl still holds several of each. */
static const double RATE[N_ROLE] = {0, 0, 0.04, 0.015, 0.03, 0.05, 0.03, 0.005};

static int gen_one(struct gen *g)
{
    struct page p;
    memset(&p, 0, sizeof p);
    p.group = UINT32_MAX;
    p.quote_art = UINT32_MAX;
    int role = -1;
    double best = 1.0;
    for (int r = R_EXACT; r < N_ROLE; r++) {
        if (g->debt[r] < best)
            continue;
        if ((r == R_EXACT && g->n_recent == 0) ||
            ((r == R_MIRROR || r == R_FOLLOW || r == R_SAME) && g->n_recent_orig == 0))
            continue;
        best = g->debt[r];
        role = r;
    }
    if (role >= 0) {
        g->debt[role] -= 1.0;
    } else if (g->qh < g->qt && g->q[g->qh].due <= g->doc) {
        p = g->q[g->qh++].p;
        page_time(g, &p);
        role = R_SYND;
    } else {
        role = R_ORIG;
    }
    int rc;
    switch (role) {
    case R_ORIG:
        p.site = (int)rbelow(&g->r, N_SITES);
        p.article = g->next_article++;
        p.topic = (int)rbelow(&g->r, N_TOPIC);
        p.group = p.article;
        p.src_site = p.site;
        p.fmt = pick_fmt(g, 0);
        page_time(g, &p);
        break;
    case R_EXACT:
        p = g->recent[rbelow(&g->r, (uint32_t)g->n_recent)];
        /* same bytes: site, format, seed, date all copied; only the URL/path differ */
        break;
    case R_MIRROR: {
        const struct page *o = &g->recent_orig[rbelow(&g->r, (uint32_t)g->n_recent_orig)];
        p = *o;
        p.src_site = o->site;
        p.site = other_site(g, o->site);
        p.tf = 0;
        p.fmt = pick_fmt(g, 0);
        page_time(g, &p);
        break;
    }
    case R_FOLLOW:
    case R_SAME: {
        const struct page *o = &g->recent_orig[rbelow(&g->r, (uint32_t)g->n_recent_orig)];
        p.site = rbelow(&g->r, 2) ? o->site : other_site(g, o->site);
        p.article = g->next_article++;
        p.topic = o->topic;
        if (role == R_FOLLOW) {
            p.quote_art = o->article;
            p.quote_topic = o->topic;
        }
        p.fmt = pick_fmt(g, 0);
        page_time(g, &p);
        break;
    }
    case R_INDEX:
        p.site = (int)rbelow(&g->r, N_SITES);
        p.fmt = pick_fmt(g, 0);
        page_time(g, &p);
        break;
    case R_NOISE:
        p.site = (int)rbelow(&g->r, N_SITES);
        p.article = g->next_article++;
        p.topic = (int)rbelow(&g->r, N_TOPIC);
        page_time(g, &p);
        p.role = R_NOISE;
        return emit_noise(g, &p, (int)(g->noise_next++ % N_NOISE));
    default:
        break;
    }
    if (role == R_EXACT) {
        p.src_doc = p.src_doc; /* the ring stores the source's own doc index there */
    } else {
        p.src_doc = g->doc;
    }
    p.role = role;
    if ((rc = emit_page(g, &p)))
        return rc;
    if (role == R_ORIG) {
        remember(g->recent_orig, &g->n_recent_orig, &p, &g->r);
        if ((rc = schedule_copies(g, &p)))
            return rc;
    }
    if (role == R_ORIG || role == R_SYND)
        remember(g->recent, &g->n_recent, &p, &g->r);
    return ND_OK;
}

static int write_sites_groups(struct gen *g)
{
    nd_buf *b = &g->line;
    int rc = ND_OK;
    if (fputs("\n],\n\"sites\":[", g->truth) == EOF)
        return nd_fail(ND_EIO, "truth: write failed");
    for (int i = 0; i < N_SITES && !rc; i++) {
        struct site *s = &g->site[i];
        nd_buf_clear(b);
        /* a template line is one repeated on >= 30% of the site's pages or on >= 5 */
        double need = 0.3 * s->pages;
        rc = nd_buf_printf(b, "%s\n{\"site\":\"%s\",\"language\":\"%s\",\"name\":", i ? "," : "",
                           SITES[i].host, UI[s->lang].code) ||
             nd_json_cstr(b, SITES[i].name) ||
             nd_buf_printf(b, ",\"pages\":%u,\"template_lines\":[", s->pages);
        nd_buf cnt = ND_BUF_INIT;
        int first = 1;
        for (int k = 0; k < s->n_fixed && !rc; k++) {
            uint32_t c = s->fixed_count[k];
            if (c < 2 || (c < 5 && c < need))
                continue;
            rc = (first ? 0 : nd_buf_putc(b, ',')) || nd_json_cstr(b, s->fixed[k]) ||
                 nd_buf_printf(&cnt, "%s%u", first ? "" : ",", c);
            first = 0;
        }
        for (size_t k = 0; k < s->mr_cap && !rc; k++) {
            uint32_t c = s->mr_count[k];
            if (c < 2 || (c < 5 && c < need))
                continue;
            nd_buf_clear(&g->tmp);
            rc = virtual_title(g, s->lang,
                               ((uint64_t)i << 40) + (uint64_t)(k / MR_ITEMS) * 8 + k % MR_ITEMS +
                                   0x3D0000000000000ull, &g->tmp);
            rc = rc || (first ? 0 : nd_buf_putc(b, ',')) || nd_json_str(b, g->tmp.p, g->tmp.len) ||
                 nd_buf_printf(&cnt, "%s%u", first ? "" : ",", c);
            first = 0;
        }
        rc = rc || nd_buf_puts(b, "],\"template_counts\":[") ||
             nd_buf_append(b, cnt.p ? cnt.p : "", cnt.len) || nd_buf_puts(b, "]}");
        nd_buf_free(&cnt);
        if (rc)
            return nd_fail(ND_ENOMEM, "out of memory");
        if (fwrite(b->p, 1, b->len, g->truth) != b->len)
            return nd_fail(ND_EIO, "truth: write failed");
    }
    /* groups: documents by article, counting sort */
    uint32_t na = g->next_article;
    uint32_t *start = calloc((size_t)na + 1, sizeof *start);
    uint32_t *mem = malloc(((size_t)g->ndocs + 1) * sizeof *mem);
    if (!start || !mem) {
        free(start);
        free(mem);
        return nd_fail(ND_ENOMEM, "out of memory");
    }
    for (uint32_t d = 0; d < g->doc; d++)
        if (g->doc_group[d] != UINT32_MAX)
            start[g->doc_group[d] + 1]++;
    for (uint32_t a = 0; a < na; a++)
        start[a + 1] += start[a];
    for (uint32_t d = 0; d < g->doc; d++)
        if (g->doc_group[d] != UINT32_MAX)
            mem[start[g->doc_group[d]]++] = d;
    /* start[a] is now the end of group a; its start is the previous end */
    if (fputs("\n],\n\"groups\":[", g->truth) == EOF)
        rc = nd_fail(ND_EIO, "truth: write failed");
    uint32_t from = 0, ngroups = 0;
    for (uint32_t a = 0; a < na && !rc; a++) {
        uint32_t to = start[a];
        if (to - from >= 2) {
            nd_buf_clear(b);
            rc = nd_buf_printf(b, "%s\n{\"group\":%u,\"size\":%u,\"members\":[", ngroups ? "," : "",
                               a, to - from);
            for (uint32_t k = from; k < to && !rc; k++)
                rc = nd_buf_printf(b, "%s%u", k > from ? "," : "", mem[k]);
            rc = rc || nd_buf_puts(b, "]}");
            if (rc)
                rc = nd_fail(ND_ENOMEM, "out of memory");
            else if (fwrite(b->p, 1, b->len, g->truth) != b->len)
                rc = nd_fail(ND_EIO, "truth: write failed");
            ngroups++;
        }
        from = to;
    }
    free(start);
    free(mem);
    if (!rc && fputs("\n]}\n", g->truth) == EOF)
        rc = nd_fail(ND_EIO, "truth: write failed");
    return rc;
}

/* ----------------------------------------------------------------- main ---- */

static int usage(void)
{
    fputs("usage: gen --docs N --seed S --out DIR --truth FILE [--long-line BYTES] [--quiet]\n"
          "Writes a synthetic crawl of N documents into DIR (created; must not exist or be\n"
          "empty) and its ground truth into FILE (outside DIR). Same arguments, same bytes.\n",
          stderr);
    return 2;
}

static int dir_usable(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno == ENOENT ? ND_OK : nd_fail(ND_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return nd_fail(ND_EEXIST, "%s exists and is not a directory", dir);
    /* refuse to mix a new crawl into an old one */
    if (rmdir(dir) == 0 || errno == ENOENT)
        return ND_OK;
    return nd_fail(ND_EEXIST, "%s exists and is not empty", dir);
}

static void gen_free(struct gen *g)
{
    for (int i = 0; i < N_SITES; i++) {
        warc_close(&g->site[i].w[0]);
        warc_close(&g->site[i].w[1]);
        for (int k = 0; k < g->site[i].n_fixed; k++)
            free(g->site[i].fixed[k]);
        free(g->site[i].mr_count);
    }
    for (int l = 0; l < N_LANG; l++)
        nd_buf_free(&g->lang[l].pool);
    nd_buf_free(&g->a.title);
    nd_buf_free(&g->a.text);
    nd_buf_free(&g->b.title);
    nd_buf_free(&g->b.text);
    nd_buf_free(&g->bl.text);
    nd_buf_free(&g->page);
    nd_buf_free(&g->tmp);
    nd_buf_free(&g->tmp2);
    nd_buf_free(&g->rec);
    nd_buf_free(&g->line);
    nd_buf_free(&g->z);
    if (g->zinit)
        deflateEnd(&g->zs);
    free(g->q);
    free(g->doc_group);
}

static int run(struct gen *g, const char *truth_path, int quiet)
{
    int rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int l = 0; l < N_LANG; l++)
        if ((rc = lang_init(&g->lang[l], l, g->seed)))
            return rc;
    for (int i = 0; i < N_SITES; i++) {
        if ((rc = site_init(g, i)))
            return rc;
        int l = SITES[i].lang;
        g->site_of_lang[l][g->n_site_of_lang[l]++] = i;
    }
    rng_seed(&g->r, g->seed, 0x9A1Dull);
    g->doc_group = malloc(((size_t)g->ndocs + 1) * sizeof *g->doc_group);
    if (!g->doc_group)
        return nd_fail(ND_ENOMEM, "out of memory");
    if ((rc = dir_usable(g->out)) || (rc = mkdirs(g->out)))
        return rc;
    if (mkdir(g->out, 0755) != 0 && errno != EEXIST)
        return nd_fail(ND_EIO, "%s: %s", g->out, strerror(errno));
    g->truth = fopen(truth_path, "wb");
    if (!g->truth)
        return nd_fail(ND_EIO, "%s: %s", truth_path, strerror(errno));
    setvbuf(g->truth, NULL, _IOFBF, 1 << 20);
    fprintf(g->truth, "{\"generator\":\"neardup-gen/1\",\"seed\":%llu,\"docs\":%u,"
                      "\"long_line\":%zu,\n\"documents\":[",
            (unsigned long long)g->seed, g->ndocs, g->long_line);
    for (int r = 0; r < N_ROLE; r++) {
        double floor = g->ndocs < 100000 ? 6.0 / g->ndocs : 0;
        double rate = RATE[r] > 0 && RATE[r] < floor ? floor : RATE[r];
        g->debt[r] = 0.5 * rate / 0.05; /* staggered so roles do not collide */
        g->debt[r] = g->debt[r] > 0.9 ? 0.9 : g->debt[r];
        g->rate[r] = rate;
    }
    g->counting = 1;
    for (g->doc = 0; g->doc < g->ndocs; g->doc++) {
        for (int r = 0; r < N_ROLE; r++)
            g->debt[r] += g->rate[r];
        if ((rc = gen_one(g)))
            return rc;
    }
    for (int i = 0; i < N_SITES; i++)
        if ((rc = warc_close(&g->site[i].w[0])) || (rc = warc_close(&g->site[i].w[1])))
            return rc;
    rc = write_sites_groups(g);
    if (fclose(g->truth) != 0 && !rc)
        rc = nd_fail(ND_EIO, "%s: write failed", truth_path);
    g->truth = NULL;
    if (rc)
        return rc;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    uint64_t total = 0;
    for (int f = 0; f < N_FMT; f++)
        total += g->bytes[f];
    if (!quiet) {
        fprintf(stderr, "gen: %u documents in %llu files (%llu WARC records), %.1f MB in %.2f s (%.0f MB/s)\n",
                g->ndocs, (unsigned long long)g->files, (unsigned long long)g->records,
                (double)total / 1e6, secs, secs > 0 ? (double)total / 1e6 / secs : 0.0);
        fputs("  formats:", stderr);
        for (int f = 0; f < N_FMT; f++)
            fprintf(stderr, " %s %u (%.1f MB)", FMT[f], g->fmt_n[f], (double)g->bytes[f] / 1e6);
        fputs("\n  roles:", stderr);
        for (int r = 0; r < N_ROLE; r++)
            fprintf(stderr, " %s %u", ROLE[r], g->role_n[r]);
        fputs("\n  transforms:", stderr);
        for (int x = 0; x < N_X; x++)
            fprintf(stderr, " %s %u", XNAME[x], g->x_n[x]);
        fputs("\n  noise:", stderr);
        for (int k = 0; k < N_NOISE; k++)
            fprintf(stderr, " %s %u", NOISE[k], g->noise_n[k]);
        fputc('\n', stderr);
    }
    return ND_OK;
}

int main(int argc, char **argv)
{
    static struct gen g;
    const char *truth = NULL;
    int quiet = 0, have_docs = 0, have_seed = 0;
    g.long_line = (1u << 20) + 4096;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            return 0;
        }
        if (!v) {
            fprintf(stderr, "gen: %s needs a value\n", a);
            return usage();
        }
        i++;
        if (!strcmp(a, "--docs")) {
            unsigned long n = strtoul(v, &end, 10);
            if (*end || n < 1 || n > 50000000) {
                fprintf(stderr, "gen: --docs: bad value '%s'\n", v);
                return 2;
            }
            g.ndocs = (uint32_t)n;
            have_docs = 1;
        } else if (!strcmp(a, "--seed")) {
            g.seed = strtoull(v, &end, 10);
            if (*end || !*v) {
                fprintf(stderr, "gen: --seed: bad value '%s'\n", v);
                return 2;
            }
            have_seed = 1;
        } else if (!strcmp(a, "--long-line")) {
            unsigned long n = strtoul(v, &end, 10);
            if (*end || n < 1000 || n > (64ul << 20)) {
                fprintf(stderr, "gen: --long-line: bad value '%s'\n", v);
                return 2;
            }
            g.long_line = n;
        } else if (!strcmp(a, "--out")) {
            g.out = v;
        } else if (!strcmp(a, "--truth")) {
            truth = v;
        } else {
            fprintf(stderr, "gen: unknown option %s\n", a);
            return usage();
        }
    }
    if (!have_docs || !have_seed || !g.out || !truth)
        return usage();
    size_t ol = strlen(g.out);
    while (ol > 1 && g.out[ol - 1] == '/')
        ol--;
    if (!strncmp(truth, g.out, ol) && truth[ol] == '/') {
        fprintf(stderr, "gen: the truth file must not be inside the crawl (%s)\n", truth);
        return 2;
    }
    int rc = run(&g, truth, quiet);
    if (rc)
        fprintf(stderr, "gen: %s\n", nd_errmsg());
    if (g.truth)
        fclose(g.truth);
    gen_free(&g);
    return rc ? 1 : 0;
}
