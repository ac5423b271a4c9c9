/*
 * rules_override - the per-user, per-domain and per-network limits an
 * admin sets over a rule's own (policy.overrides): which select a
 * transaction, and which of them wins for a rule (a user's, then a
 * domain's, then the longest network's).
 */
#include <string.h>
#include <strings.h>

#include "rules.h"

/* domain_of - the domain of the sender, else of the login, or NULL; its
 * length in *len. MTAs hand over MAIL FROM in angle brackets. */
static const char *domain_of(const char *login, const char *sender,
			     size_t *len)
{
    const char *at = sender ? strrchr(sender, '@') : NULL;

    *len = at != NULL ? strcspn(at + 1, ">") : 0;
    if (*len == 0) {
	at = login ? strrchr(login, '@') : NULL;
	*len = at != NULL ? strlen(at + 1) : 0;
    }
    return *len != 0 ? at + 1 : NULL;
}

/* override_applies - does an override select this transaction? */
static bool override_applies(const struct cfg_override *o, const char *login,
			     const char *dom, size_t dlen,
			     const struct addr *client)
{
    switch (o->kind) {
    case CFG_OV_USER:
	return login != NULL && strcasecmp(o->user, login) == 0;
    case CFG_OV_DOMAIN:
	return dom != NULL && strlen(o->domain) == dlen
	    && strncasecmp(o->domain, dom, dlen) == 0;
    default:
	return addr_cidr_match(&o->network, client);
    }
}

/* override_rank - precedence: user, then domain, then longer networks */
static unsigned override_rank(const struct cfg_override *o)
{
    return o->kind == CFG_OV_USER ? 1000 : o->kind == CFG_OV_DOMAIN ? 500
	: o->network.plen;
}

/* rules_override_select - the overrides selecting this transaction, in out[] */
size_t rules_override_select(const struct cfg *cfg, const char *login,
			      const char *sender, const struct addr *client,
			      const struct cfg_override **out, size_t max)
{
    size_t i, n = 0, dlen;
    const char *dom = domain_of(login, sender, &dlen);

    for (i = 0; i < cfg->policy.noverrides && n < max; i++)
	if (override_applies(&cfg->policy.overrides[i], login, dom, dlen, client))
	    out[n++] = &cfg->policy.overrides[i];
    return n;
}

/* rules_override_limit - a rule's limit among the selected overrides */
uint64_t rules_override_limit(const struct cfg *cfg, size_t rule,
			       const struct cfg_override *const *sel, size_t n)
{
    const struct cfg_override *best = NULL;
    size_t i;

    for (i = 0; i < n; i++)
	if (sel[i]->rule == (int) rule
	    && (best == NULL || override_rank(sel[i]) > override_rank(best)))
	    best = sel[i];
    return best ? best->limit : cfg->policy.rules[rule].limit;
}

/* rules_limit_for - a rule's limit after overrides: user, domain, network */
uint64_t rules_limit_for(const struct cfg *cfg, size_t rule, const char *login,
			 const char *sender, const struct addr *client)
{
    const struct cfg_override *sel[RULES_OVERRIDES_MAX];
    size_t n = rules_override_select(cfg, login, sender, client, sel, RULES_OVERRIDES_MAX);

    return rules_override_limit(cfg, rule, sel, n);
}
