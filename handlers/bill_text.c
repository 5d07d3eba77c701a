/* bill_text.c -- a monthly bill's text from bill:{M}:YYYYMM: the renderer the
 * CXZD reply and the bill run share (bill_text.h), and the shipped texts of
 * its templates for a renderer without a config. */
#include "handlers/bill_text.h"

#include <stdio.h>
#include <string.h>

#include "base/sc.h"
#include "handlers/query.h"

const char *const sc_bill_fields[SC_BILL_ITEMS] = {
    "plan_fen", "voice_fen", "data_fen", "sms_fen", "vas_fen", "other_fen", "discount_fen",
    "total_fen",
};

/* The items, in the order of sc_bill_fields and of the text. */
enum { B_PLAN, B_VOICE, B_DATA, B_SMS, B_VAS, B_OTHER, B_DISCOUNT, B_TOTAL };
static const char *const item_tpl[SC_BILL_ITEMS] = {
    "bill_plan", "bill_voice", "bill_data", "bill_sms", "bill_vas", "bill_other",
    "bill_discount", "bill_total",
};

const struct sc_tpl_decl sc_bill_templates[] = {
    SC_TPL_DECL("bill_header", "month"),
    SC_TPL_DECL("bill_plan_name", "plan"),
    SC_TPL_DECL("bill_plan", "amount"),
    SC_TPL_DECL("bill_voice", "amount"),
    SC_TPL_DECL("bill_data", "amount"),
    SC_TPL_DECL("bill_sms", "amount"),
    SC_TPL_DECL("bill_vas", "amount"),
    SC_TPL_DECL("bill_vas_named", "amount", "services"),
    SC_TPL_DECL("bill_vas_more", "count"),
    SC_TPL_DECL("bill_other", "amount"),
    SC_TPL_DECL("bill_discount", "amount"),
    SC_TPL_DECL("bill_total", "amount"),
    {"bill_partial", NULL, 0},
    SC_TPL_DECL("bill_none", "month"),
    SC_TPL_DECL("bill_details", "cycle"),
    {NULL, NULL, 0},
};

/* The texts of config/shortcoded.yaml (tests/unit/test_bill_text.c checks
 * that they are the same). */
static const struct {
    const char *name, *text;
} defaults[] = {
    {"bill_header", "您{month}的账单："},
    {"bill_plan_name", "套餐：{plan}"},
    {"bill_plan", "套餐及固定费：{amount}"},
    {"bill_voice", "语音通话费：{amount}"},
    {"bill_data", "上网流量费：{amount}"},
    {"bill_sms", "短信彩信费：{amount}"},
    {"bill_vas", "增值业务费：{amount}"},
    {"bill_vas_named", "增值业务费：{amount}（{services}）"},
    {"bill_vas_more", "等{count}项"},
    {"bill_other", "其他费用：{amount}"},
    {"bill_discount", "优惠减免：{amount}"},
    {"bill_total", "本期合计：{amount}"},
    {"bill_partial", "部分费用项目暂未出账，请以实际账单为准。"},
    {"bill_none", "暂未查询到您{month}的账单，请稍后再试或拨打10086咨询。"},
    {"bill_details", "详单请发送CXZD至10086查询。"},
};

const char *sc_bill_default_template(const char *name)
{
    for (size_t i = 0; i < SC_ARRAY_LEN(defaults); i++)
        if (strcmp(defaults[i].name, name) == 0)
            return defaults[i].text;
    return NULL;
}

const char *sc_bill_month_text(const char *yyyymm, char *out, size_t outsz)
{
    if (strlen(yyyymm) == 6 && strspn(yyyymm, "0123456789") == 6)
        snprintf(out, outsz, "%.4s年%d月", yyyymm, (yyyymm[4] - '0') * 10 + (yyyymm[5] - '0'));
    else
        sc_strlcpy(out, yyyymm, outsz);
    return out;
}

/* A text put together line by line from rendered templates. */
struct lines {
    char *s;
    size_t len, cap;
    sc_bill_render_fn render;
    void *arg;
};

static void line(struct lines *t, const char *tpl, const char *const *values)
{
    if (t->len && t->len + 1 < t->cap) {
        t->s[t->len++] = '\n';
        t->s[t->len] = '\0';
    }
    size_t room = t->cap - t->len;
    size_t n = t->render(t->arg, tpl, values, t->s + t->len, room);
    t->len += n < room ? n : strlen(t->s + t->len);
}

size_t sc_bill_text(const struct sc_bill *b, int details, sc_bill_render_fn render, void *arg,
                    char *out, size_t outsz)
{
    if (!outsz)
        return 0;
    struct lines t = {out, 0, outsz, render, arg};
    char month[32], plan[64];
    out[0] = '\0';
    line(&t, "bill_header",
         (const char *const[]){sc_bill_month_text(b->month, month, sizeof month)});
    if (b->plan && b->plan[0])
        line(&t, "bill_plan_name", (const char *const[]){sc_text_short(b->plan, 20, plan,
                                                                        sizeof plan)});
    int partial = 0;
    for (size_t i = 0; i < SC_BILL_ITEMS; i++) {
        long long fen;
        if (!b->items[i] || sc_parse_int(b->items[i], &fen) < 0) {
            partial = 1; /* absent, or not a number: left out, and said so */
            continue;
        }
        if (i == B_DISCOUNT && fen > 0)
            fen = -fen; /* a reduction, whichever sign billing wrote */
        char amount[32];
        sc_fmt_yuan(fen, amount, sizeof amount);
        if (i == B_VAS && b->services && b->services[0])
            line(&t, "bill_vas_named", (const char *const[]){amount, b->services});
        else
            line(&t, item_tpl[i], (const char *const[]){amount});
    }
    if (partial)
        line(&t, "bill_partial", NULL);
    if (details)
        line(&t, "bill_details", (const char *const[]){b->month});
    return t.len;
}
