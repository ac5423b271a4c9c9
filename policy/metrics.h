/*
 * metrics - one function per rule metric, chosen from a table by
 * enum cfg_metric. Each returns the metric's value for the transaction
 * being judged and writes its evidence ("4 countries in 10m: BR,CN,DE,RU").
 *
 * Contract: pure functions of the context; thread-safe; internal to the
 * engine (rules.c) and its tests.
 */
#ifndef RG_METRICS_H
#define RG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "rules.h"
#include "store.h"

#define METRICS_USUAL_MIN_DAYS 3	/* days seen before a country is usual */

struct metrics_ctx {
    const struct cfg *cfg;
    const struct rules_facts *f;
    uint32_t now;
    enum rules_class cls;
    const struct store_user *user;	/* NULL without a login */
    const struct store_client *client;	/* NULL when not loaded */
    const struct store_client *client64;	/* an IPv6 client's /64, or NULL */
    const struct store_win *win;	/* the counters this class is judged by,
					 * this transaction's units included */
    const struct store_win *client_win;	/* the client address's, at RCPT
					 * (NULL relayed or elsewhere) */
    bool relayed;		/* the address is a trusted relay's */
    const struct cfg_override *const *ov;	/* overrides selecting this transaction */
    size_t nov;
    uint32_t usual_msgs, usual_rcpts;	/* the login's busiest usual hour, as
					 * found at MAIL (rules_verdict) */
    bool usual_floor;		/* ... raised to a learning login's floor */
    uint32_t prior_rcpts;	/* the usual recipients hour as it stood
				 * before today (store_prior.c), at MAIL */
    uint16_t bulk_hour;		/* the hour of the last bulk message let
				 * through, 0 none (store_bulk.c), at MAIL */
    uint32_t roam_msgs;		/* the roaming phone's messages in the last
				 * hour, at MAIL (metrics_roaming_phone) */
    bool site;			/* the client's /24 (/48) is the site's */
    bool site_stranger;		/* ... but not for a fine address no other
				 * login came from, past a backlog day
				 * (rules_neigh.c) */
    bool site_place;		/* a newcomer's client AS, country or
				 * /24 (/48) is the site's (rules_site.c) */
    bool neighbour;		/* ... another login vouched for it */
    bool alone_line;		/* ... at a line in a /24 (/48) no other
				 * login of the site came from (rules_neigh.c) */
    bool unknown_place;		/* a newcomer's or learning login's client
				 * at no place of the site's, from MAIL
				 * (metrics_newbulk.c) */
    bool family;		/* family_line: a line of the login's day in
				 * a country without a home place of its own,
				 * in a network another login vouched for
				 * (rules_site.c rules_family_stay) */
    struct addr family_line;
    bool family_stay;		/* metrics_family_stay, found at MAIL
				 * (rules_verdict.family_stay) */
    bool home_back;		/* the client's line is a login's first at
				 * home back from abroad, found at MAIL
				 * (rules_site.c rules_home_back) */
    bool first_left;		/* the client in the login's first country,
				 * another it learned more the site's, found
				 * at MAIL (rules_site.c rules_first_left) */
    bool hub;			/* the previous located place or the
				 * client's is the site's shared egress or
				 * the login's carrier pool, or the previous
				 * address one the site's people share, at
				 * MAIL (rules_hub.c): no travel measured */
    uint32_t site_start;	/* store_site_start: 0 not yet */
    struct metrics_memo *memo;	/* answers kept for this evaluation
				 * (metrics_memo.c); NULL: none */
};

/* metrics_memo.c: what one evaluation asked about each remembered
 * address of the login (by its slot in user->ips): familiar
 * (metrics_familiar with the entry's AS) and a second home
 * (metrics_second_home). METRICS_MEMO_NONE: not asked yet. */
enum { METRICS_MEMO_NONE, METRICS_MEMO_NO, METRICS_MEMO_YES };
struct metrics_memo {
    const struct metrics_ctx *ctx;	/* the context it serves (a copy of
					 * it, changed, has none) */
    uint8_t familiar[STORE_IPS_MAX];
    uint8_t second_home[STORE_IPS_MAX];
    uint32_t roam_w;		/* metrics_roaming_phone's window, 0: not
				 * asked yet */
    uint32_t roam_phone;	/* ... and its answer */
    bool client_net_asked;	/* metrics_client_net asked yet */
    const struct store_net *client_net;	/* ... and its answer */
};
uint8_t *metrics_memo_familiar(const struct metrics_ctx *c, const struct addr *ip,
			       uint32_t asn);
uint8_t *metrics_memo_second_home(const struct metrics_ctx *c,
				  const struct store_ip *ip);
bool metrics_memo_put(uint8_t *m, bool answer);
const struct store_net *metrics_client_net(const struct metrics_ctx *c);

bool metrics_phase(enum cfg_metric m, enum rules_phase phase);
#define METRICS_VOUCH_S 86400	/* how long a vouched address stays familiar */
#define METRICS_SITE_WINDOW_S (30 * 86400)	/* a login vouching for a site
						 * network counts this long */

/* Is a site network's entry (store_site_get) one of the site's familiar
 * networks: vouched for by policy.site_logins distinct logins within
 * METRICS_SITE_WINDOW_S, on policy.site_days days? */
bool metrics_site_network(const struct cfg *cfg, const struct store_client *s,
			  uint32_t now);

/* When the login's learning period ends (seconds): learning_period
 * after its first message, or when a rule blocked it, if earlier. */
uint64_t metrics_learning_end(const struct cfg *cfg, const struct store_user *u);

/* Is a network (an address and its AS) one of the login's familiar
 * places: pinned in policy.familiar_networks, learned on familiar_days
 * days, or first used while the login was learning on a day before
 * today, or it is the learning login's first day?
 * The client address itself is also familiar when another login came
 * from it from a familiar place of its own within METRICS_VOUCH_S (the
 * site knows it: a corporate VPN exit, an office NAT), and so is every
 * address of its /24 (/48) when that is one of the site's networks
 * (c->site, metrics_site_network). */
bool metrics_familiar(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn);
/* A place the learning grace does not cover: the login is learning, past
 * its first day (UTC), and the network and its country (cc, two letters)
 * were both first used today or never (nor is the country granted by an
 * override); never a pinned or site network. */
bool metrics_learning_stranger(const struct metrics_ctx *c,
			       const struct addr *ip, uint32_t asn,
			       const char *cc);
/* metrics_familiar and not metrics_learning_stranger: what the volume
 * metrics (unfamiliar_network, unfamiliar_messages) and the learning of
 * the usual hour go by. */
bool metrics_volume_familiar(const struct metrics_ctx *c, const struct addr *ip,
			     uint32_t asn, const char *cc);
/* Is the login's learned network n (of country cc, "" if unknown) its
 * own place (what metrics_own_place answers for an address)? */
bool metrics_net_own(const struct metrics_ctx *c, const struct store_net *n,
		     const char *cc);
/* A network the login learned as its own (metrics_net_own), wherever
 * on it the address is. */
bool metrics_own_network(const struct metrics_ctx *c, const struct addr *ip,
			 uint32_t asn);
/* Only the login's own learned places: no learning grace, not the site's
 * (what may vouch for an address); an own network's far place
 * (metrics_far_place) is not one unless other logins came from the
 * client address within a day. */
bool metrics_own_place(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn);
/* A place the login knows without its learning grace: pinned, the
 * site's (as in metrics_familiar) or learned as its own (what a rule's
 * login block spares under policy.block_unfamiliar_only). */
bool metrics_known_place(const struct metrics_ctx *c, const struct addr *ip,
			 uint32_t asn);
/* An own place that may vouch for its network site-wide: learned while
 * the login was learning, or first used a learning period ago or more. */
bool metrics_site_voucher(const struct metrics_ctx *c, const struct addr *ip,
			  uint32_t asn);
/* Is the country (two letters) one of the login's usual ones: seen
 * while learning or on METRICS_USUAL_MIN_DAYS days, or granted by an
 * override? */
bool metrics_usual_country(const struct metrics_ctx *c, const char *cc);
bool metrics_stranger_at_home(const struct metrics_ctx *c, uint32_t w);
bool metrics_stranger_line(const struct metrics_ctx *c, uint32_t w);
/* A network as evidence: "AS64500 (RU)", "198.18.5.0/24 (RU)". */
void metrics_net_text(const struct addr *ip, uint32_t asn, const char cc[3],
		      char *out, size_t len);
/* metrics_trip.c: the unfamiliar_places metric (a trip abroad is one
 * place, see there). */
uint64_t metrics_unfamiliar_places(const struct metrics_ctx *c, uint32_t w,
				   char *ev, size_t evlen);
/* ... and the metric itself: a learning login's networks new today
 * while metrics_hop_on (metrics_hop.c) */
uint64_t metrics_network_hops(const struct metrics_ctx *c, uint32_t w,
			      char *ev, size_t evlen);
#define METRICS_TRIP_DAY_HOURS 3	/* a usual day: this many busiest hours */
uint64_t metrics_unfamiliar_messages_over_usual(const struct metrics_ctx *c,
						uint32_t w, char *ev,
						size_t evlen);
/* metrics_day.c: the login's busiest usual day (the learned one, else
 * METRICS_TRIP_DAY_HOURS busiest hours); whether the window's unfamiliar
 * addresses are one place whose networks known since an earlier day
 * count today's messages only; an address's messages so counted (in
 * STORE_IP_PARTS). See metrics_day.c. */
uint64_t metrics_usual_day(const struct metrics_ctx *c);
/* ... the login's busiest day as learned (uncapped), else the hours' */
uint64_t metrics_login_day(const struct metrics_ctx *c);
/* ... an address's observations on day d (now / STORE_DAY_S): its
 * day_msgs of that day, 0 when neither of the two kept */
uint64_t metrics_ip_day_count(const struct store_ip *ip, uint32_t d);
/* metrics_roam.c: the window's unfamiliar addresses as one network
 * abroad, in one walk, for the roaming trip and the local SIM abroad
 * (metrics_sim.c); false when they are not (one_net) */
struct metrics_abroad {
    bool one_net;		/* all of one network, each in a country
				 * known and not a usual one; one at least */
    bool carrier;		/* ... and all coarse (policy.coarse_km)
				 * places of one country, cc */
    uint32_t since;		/* the first time one of them was seen */
    uint64_t sent;		/* their messages in the window (parts) */
    char cc[3];			/* the first one's country */
    size_t n;			/* carrier: its subscriber units (an IPv4
				 * address, an IPv6 /64) */
    const struct store_ip *unit[STORE_IPS_MAX];	/* an address of each */
    uint64_t per[STORE_IPS_MAX];	/* each unit's messages (parts) */
};
bool metrics_abroad(const struct metrics_ctx *c, uint32_t w,
		    struct metrics_abroad *a);
/* ... one network abroad, and since its first message the login sent
 * from a familiar coarse place (its phone roaming home) and from no
 * familiar fine one; policy.trip_roaming. */
bool metrics_roaming_trip(const struct metrics_ctx *c, uint32_t w);
void metrics_roaming_text(char *ev, size_t evlen, uint64_t usual);
/* ... have the window's unfamiliar addresses sent n no faster than the
 * login's busiest usual hour on average since the first was seen (since;
 * the first hour as a whole)? */
bool metrics_at_owners_pace(const struct metrics_ctx *c, uint64_t n,
			    uint32_t since);
/* metrics_sim.c: the window's unfamiliar addresses a local SIM abroad
 * alone (one coarse network in a country not usual, a new address or /64
 * a connection, at the owner's pace); policy.trip_roaming. */
bool metrics_sim_trip(const struct metrics_ctx *c, uint32_t w);
/* ... messages_over_usual's usual hour: the usual day while the rolling
 * day's unfamiliar mail is such a SIM, at any pace (see there) */
uint64_t metrics_sim_usual(const struct metrics_ctx *c, uint64_t usual,
			   char *ev, size_t evlen);
/* metrics_settled.c: has the login sent from a familiar place in a usual
 * country other than cc, or from its home place, since start? */
bool metrics_home_since(const struct metrics_ctx *c, uint32_t start,
			const char cc[3]);
void metrics_sim_text(char *ev, size_t evlen, uint64_t usual);
/* ... messages_over_usual's usual hour on such a trip (its rolling day):
 * usual, raised by twice the phone's messages of the window (v: the
 * window's count), with its evidence. */
uint64_t metrics_roaming_usual(const struct metrics_ctx *c, uint64_t v,
			       uint64_t usual, uint32_t w, char *ev,
			       size_t evlen);
/* ... the phone's messages in w on such a trip whose place abroad was
 * first seen more than w before (0: none, or no such trip); at MAIL */
uint32_t metrics_roaming_phone(const struct metrics_ctx *c, uint32_t w);
/* ... recipients_over_usual's usual hour (usual: with its slack) on such
 * a trip, from the phone's messages found at MAIL (c->roam_msgs, an hour:
 * METRICS_ROAM_RCPTS_W), with its evidence. */
#define METRICS_ROAM_RCPTS_W CFG_ROAM_RCPTS_W
uint64_t metrics_roaming_rcpts(const struct metrics_ctx *c, uint64_t v,
			       uint64_t usual, uint32_t w, char *ev,
			       size_t evlen);
bool metrics_trip_new_day(const struct metrics_ctx *c, uint32_t w);
uint64_t metrics_address_recent(const struct metrics_ctx *c,
				const struct store_ip *ip, uint32_t w,
				bool new_day, bool *today);
/* A learning login's busiest usual hour raised to
 * policy.learning_usual_messages and _recipients (its own is a day or
 * two thin); true if either was raised. */
bool metrics_usual_floor(const struct metrics_ctx *c, uint16_t *msgs,
			 uint16_t *rcpts);
/* metrics_home.c: the owner at home (see there). Is the client, at
 * MAIL, the login's home place; was mail let through from it after the
 * window's unfamiliar addresses abroad were first seen? */
bool metrics_home_place(const struct metrics_ctx *c);
/* ... and the only fine address of its AS number (one IPv4 address, one
 * IPv6 /64) the login first came from at or after since? */
bool metrics_home_line_alone(const struct metrics_ctx *c, uint32_t since);
bool metrics_home_during_trip(const struct metrics_ctx *c, uint32_t w);
/* Is the country (two letters) one where the login has a home place: a
 * fine anchor on a network that may vouch for it? */
bool metrics_home_country(const struct metrics_ctx *c, const char *cc);
/* metrics_neighbour.c: a login's first home line in a neighbour's
 * network (policy.first_home) */
bool metrics_neighbour_network(const struct cfg *cfg,
			       const struct store_client *s, uint32_t now);
bool metrics_first_home(const struct metrics_ctx *c, const struct addr *ip);
/* ... is the client's line the first of a login back from a stay abroad
 * (left: the country it left last; whether that was a trip or home,
 * rules_site.c rules_home_back)? */
bool metrics_back_home(const struct metrics_ctx *c, char left[3]);
/* ... is a remembered address on the client's AS number (not 0) and
 * located within r km of it: the client's line under another address
 * or family? */
bool metrics_line_near(const struct metrics_ctx *c, const struct store_ip *a,
		       uint32_t r);
/* ... has the login sent past a backlog day from the client's /24 (/48)
 * (first_home's bound; also a stranger in a site network, rules_neigh.c) */
bool metrics_line_past_day(const struct metrics_ctx *c);
/* A remembered address that is a second home beside the home place
 * (policy.second_home): no own place, and its messages count since it
 * was first seen. */
bool metrics_second_home(const struct metrics_ctx *c, const struct store_ip *ip);
/* Append what a second home's count is to ev, if second. */
void metrics_second_home_text(bool second, char *ev, size_t evlen);
/* How many logins came from an address (its entry s) within the last
 * w seconds (metrics.c, beside metrics_in_window, which it inlines). */
uint32_t metrics_client_logins(const struct store_client *s, uint32_t now,
			       uint32_t w);
/* Did another login come from the client address within a day? */
bool metrics_shared_client(const struct metrics_ctx *c, const struct addr *ip);
/* Two addresses in one /24 (/48): a network, as the site's are kept
 * (metrics.c). */
bool metrics_same_network(const struct addr *a, const struct addr *b);
/* metrics_in_window - was a sighting at t inside the last w seconds? */
bool metrics_in_window(uint32_t t, uint32_t now, uint32_t w);
/* metrics_unfamiliar_ip - the login's next address from *i on that was
 * seen within w on a place not familiar to it (metrics_volume_familiar:
 * a learning login's stranger is unfamiliar, so a hotel on a trip's
 * first day in the learning week is judged as a trip, the roaming phone
 * beside it: tests/sim office seeds 7 and 10); NULL when there is none
 * left. Start with *i = 0. */
const struct store_ip *metrics_unfamiliar_ip(const struct metrics_ctx *c,
					     uint32_t w, size_t *i);
/* metrics_user_ip - the login's entry of an address, or NULL */
const struct store_ip *metrics_user_ip(const struct metrics_ctx *c,
				       const struct addr *ip);
/* metrics_ip_cc - an address's country: the client's, or from self (its
 * entry in the login's list); "" if unknown */
void metrics_ip_cc(const struct metrics_ctx *c, const struct addr *ip,
		   const struct store_ip *self, char cc[3]);

/* metrics_travel.c: travel_kmh, speed from the previous located login */
uint64_t metrics_travel_kmh(const struct metrics_ctx *c, uint32_t w,
			   char *ev, size_t evlen);

/* metrics_place.c: places finer than a network (see there). Is the
 * address a fine place of its network far from every fine anchor the
 * login has on it (*km, may be NULL: the nearest's distance)? */
bool metrics_far_place(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn, uint32_t *km);
/* ... far from every fine anchor the login has in the address's
 * country, on any network (and it has one)? */
bool metrics_far_line(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t *km);
/* A learning login's line far from its home places: metrics_far_line, on
 * a network (n: its learned entry, NULL: none) not yet its own by
 * familiar_days days, or a far place of one that is. */
bool metrics_far_line_stranger(const struct metrics_ctx *c,
			       const struct addr *ip, uint32_t asn,
			       const struct store_net *n);
/* Is the address located finer than policy.coarse_km: the client by
 * GeoIP, another by self, its entry in the login's list (NULL: looked
 * up; c->user must be set)? */
/* metrics_place.c: is a remembered address located finer than
 * policy.coarse_km? */
bool metrics_ip_fine(const struct metrics_ctx *c, const struct store_ip *ip);
/* ... on a network where the login has anchors in 3 /24s (/48s): a
 * carrier's pool, however finely located */
bool metrics_pool_network(const struct metrics_ctx *c, const struct store_ip *a);
bool metrics_fine_place(const struct metrics_ctx *c, const struct addr *ip,
			const struct store_ip *self);
/* A fine place whose /24 (/48) has no anchor of the login: a line of
 * its network it has not had mail let through from (h-vpn, probe F25). */
bool metrics_new_line(const struct metrics_ctx *c, const struct addr *ip);
/* Is the address a stray line: a fine place of the login's home line's
 * network near it, in a /24 (/48) that line never had, while the line
 * keeps to its few (policy.stray_line, metrics_place.c)? */
bool metrics_stray_line(const struct metrics_ctx *c, const struct addr *ip,
			uint32_t asn);
/* Is the address the later come of two lines of its network near each
 * other in use at once (the other sent since this one's first message):
 * another subscriber's line beside the login's own (metrics_place.c)? */
bool metrics_two_lines(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn);
/* Two remembered addresses, both fine places, too far apart for one town. */
bool metrics_places_apart(const struct metrics_ctx *c,
			  const struct store_ip *a, const struct store_ip *b);
/* Append ": known network, but N km from the login's places on it" to
 * ev when the address is such a far place. */
void metrics_far_text(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn, char *ev, size_t evlen);
/* metrics_revisit.c: a fine place abroad of a learned network that the
 * login took up again today after a day or more without it (a new
 * stay), and the revisit_messages metric: messages in the window from
 * such places, when the client is one. */
bool metrics_revisit(const struct metrics_ctx *c, const struct addr *ip,
		     uint32_t asn);
uint64_t metrics_revisit_messages(const struct metrics_ctx *c, uint32_t w,
				  char *ev, size_t evlen);
/* ... is cc the login's first country or the one it has the most days
 * in (cc's today not counted): never "abroad" */
bool metrics_abroad_home(const struct metrics_ctx *c, const char *cc);
/* ... the login's first country (where its account was first used),
 * NULL with none yet */
const struct store_country *metrics_first_country(const struct metrics_ctx *c);
/* metrics_abroad.c: the abroad_line_messages_over_usual metric: the
 * login's messages of the window from the client's /24 (an IPv6 line's:
 * all of them), a line of its own network outside its first country,
 * past its busiest day before today (see there) */
uint64_t metrics_abroad_line_messages(const struct metrics_ctx *c,
				      uint32_t w, char *ev, size_t evlen);
/* metrics_newcomer.c: a login on its first day on a site past its first
 * learning period, and the newcomer_messages metric: its messages in the
 * window while the client is at no place the site knows. */
bool metrics_newcomer(const struct metrics_ctx *c);
/* ... is the client a place the newcomer rules judge at: not a pinned
 * network, nor an address more than site_logins logins (this one
 * included) came from within a day (a VPN exit, an office NAT; without
 * site networks or the client's entry, another one:
 * metrics_shared_client)? */
bool metrics_newcomer_place(const struct metrics_ctx *c);
uint64_t metrics_newcomer_messages(const struct metrics_ctx *c, uint32_t w,
				   char *ev, size_t evlen);
/* metrics_newbulk.c: is the login judged by newcomer_recipients (a
 * newcomer, or learning on a site past its first learning period), and
 * the metric: its recipients in the window while the client is at no
 * place the site knows (c->unknown_place, found at MAIL). */
bool metrics_newbulk_learner(const struct metrics_ctx *c);
uint64_t metrics_newcomer_recipients(const struct metrics_ctx *c, uint32_t w,
				     char *ev, size_t evlen);
/* newcomer_line_recipients: a line is no neighbourhood of the site's
 * people while fewer than this many other logins vouched for its /24
 * (/48) within METRICS_SITE_WINDOW_S (rules_neigh.c rules_alone_line) */
#define METRICS_LINE_OTHERS 2
uint64_t metrics_newcomer_line_recipients(const struct metrics_ctx *c,
					  uint32_t w, char *ev, size_t evlen);
/* metrics_carrier.c: the login's own carrier pool (see there). The
 * usual coarse hour counts at least this many messages. */
#define METRICS_COARSE_FLOOR 3
#define METRICS_COARSE_ELSEWHERE 3	/* messages away from the busiest hub */
#define METRICS_COARSE_SHARE 5	/* ... and at least one in this many */
#define METRICS_COARSE_BURST 3	/* past this many times the usual hour, */
#define METRICS_COARSE_BURST_ELSEWHERE 1	/* ... this many away will do */
#define METRICS_COARSE_SLACK 2	/* a usual hour past the floor gets one in
				 * this many of the excess on top */
#define METRICS_COARSE_KNOWN_NUM 3	/* every address at a known hub: */
#define METRICS_COARSE_KNOWN_DEN 2	/* ... past this share of the usual */
#define METRICS_COARSE_KNOWN_MIN 12	/* ... and past this many */
#define METRICS_COARSE_SOLE_DAYS 3	/* a phone on one hub: earlier days on
					 * the network, at least */
#define METRICS_COARSE_PACE_S 1200	/* a spread hour's recipients test:
					 * past the bar within this much */
#define METRICS_COARSE_RCPTS_PER 2	/* ... and this many recipients a
					 * message before it, on average */
#define METRICS_COARSE_PACE_TIMES 2	/* ... or this many times the usual
					 * hour within METRICS_COARSE_PACE_S */
#define METRICS_COARSE_NEW_S 7200	/* a new login's first hours */
#define METRICS_COARSE_NEW_BEFORE 2	/* ... or its first hour on the pool:
					 * this many messages there before */
#define METRICS_COARSE_STAY_NUM 3	/* one pool address that stays: past */
#define METRICS_COARSE_STAY_DEN 2	/* ... this share of the usual hour */
#define METRICS_COARSE_STAY_MIN 8	/* ... and past this many messages */
#define METRICS_COARSE_ROTATE_MAX 2	/* ... on a pool whose other addresses
					 * carried at most this many, mostly */
struct metrics_coarse {
    uint32_t fresh;		/* addresses at a hub new to the login */
    uint32_t elsewhere;		/* messages away from the busiest hub */
    uint32_t off;		/* messages away from the login's sole hub */
    bool sole;			/* the login's phone kept to one hub */
};
uint32_t metrics_coarse_count(const struct metrics_ctx *c, uint32_t w,
			      struct metrics_coarse *t);
/* Two remembered addresses located at one place (a carrier's hub). */
bool metrics_same_hub(const struct store_ip *a, const struct store_ip *b);
bool metrics_coarse_client(const struct metrics_ctx *c);
bool metrics_coarse_learner(const struct metrics_ctx *c);
/* An address of another country than the client's in the last day (a
 * traveller's phone, roaming or just back home). */
bool metrics_coarse_on_trip(const struct metrics_ctx *c);
/* The login's usual hour on its pools, at least METRICS_COARSE_FLOOR. */
uint32_t metrics_coarse_usual(const struct metrics_ctx *c);
/* A remembered address's messages surely within w (metrics_carrier.c
 * surely_count): all of them when it was first seen within w, else one. */
uint32_t metrics_ip_surely(const struct store_ip *ip, uint32_t now,
			   uint32_t w);
uint64_t metrics_coarse_messages_over_usual(const struct metrics_ctx *c,
					    uint32_t w, char *ev, size_t evlen);
/* metrics_newcc.c: distinct countries of the window's addresses that
 * are not usual to the login (the new_countries metric). */
uint64_t metrics_new_countries(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen);
/* metrics_prior.c: recipients past the usual hour as it stood before
 * today (user-recipients' scale). */
uint64_t metrics_recipients_over_prior_usual(const struct metrics_ctx *c,
					     uint32_t w, char *ev,
					     size_t evlen);
/* metrics_relay.c: messages through a trusted relay (the site's
 * webmail) in the last hour, past the login's busiest usual hour. */
uint64_t metrics_relayed_messages_over_usual(const struct metrics_ctx *c,
					     uint32_t w, char *ev,
					     size_t evlen);
/* ... and what it counts past (c->user and c->cfg, c->now, the site's
 * start for the learning floor; relayguardctl show). */
uint64_t metrics_relayed_usual(const struct metrics_ctx *c);
/* metrics_settled.c: is the login at its family's home abroad on a stay
 * (policy.family_stay), the client one of the stay's (the family's line,
 * a neighbour's line, a local SIM)? Found once at MAIL (rules_site.c
 * rules_family_stay, c->family_stay): messages_over_usual,
 * recipients_over_usual and unfamiliar_messages are 0 then. */
bool metrics_family_stay(const struct metrics_ctx *c);
/* metrics_settled.c: a trip abroad since an earlier day, the owner silent
 * at home since it began (policy.trip_settled): messages_over_usual's
 * usual hour for it (usual, or the usual day), with its evidence. */
uint64_t metrics_settled_usual(const struct metrics_ctx *c, uint64_t usual,
			       char *ev, size_t evlen);
/* ... and whether the login is so settled (policy.trip_settled): a day
 * block unusual-volume set on an earlier day of the stay ends with that
 * day (rules_spare.c). */
bool metrics_settled(const struct metrics_ctx *c);
/* ... and whether yesterday's unfamiliar messages were all in the
 * stay's country cc, within the busiest day (rules_spare.c settled_day:
 * the block a familiar network of the stay is spared is the stay's) */
bool metrics_stay_yesterday(const struct metrics_ctx *c, const char cc[3]);
/* ... unfamiliar-volume's trip allowance for one line abroad beside the
 * login's own local SIM on such a stay, the SIM at a quarter of the
 * line's messages since the line began (policy.trip_settled) */
bool metrics_settled_line(const struct metrics_ctx *c, uint32_t w);
void metrics_settled_line_text(char *ev, size_t evlen, uint64_t usual);
/* metrics_shared.c: messages from the site's shared exits (addresses
 * other logins come from too: a VPN, a NAT) within the window, past the
 * login's busiest day. */
uint64_t metrics_shared_messages_over_usual(const struct metrics_ctx *c,
					    uint32_t w, char *ev,
					    size_t evlen);
/* metrics_prior.c: the prior_recipients_over_usual metric:
 * recipients_over_prior_usual with a bulk message's margin (see there) */
uint64_t metrics_prior_recipients_bulk(const struct metrics_ctx *c,
				       uint32_t w, char *ev, size_t evlen);
/* ... the new_exit metric: 1 at a shared exit whose network the login
 * had no mail let through from before today, past its learning */
uint64_t metrics_new_exit(const struct metrics_ctx *c, uint32_t w, char *ev,
			  size_t evlen);
/* ... the login's busiest day as it stood before today (store_prior_day.c),
 * else metrics_login_day's */
uint64_t metrics_prior_day(const struct metrics_ctx *c);
/* ... the login's messages within w from its remembered addresses in the
 * client's /24 (/48), refused ones too; *k (if not NULL) the addresses */
uint64_t metrics_network_recent(const struct metrics_ctx *c, uint32_t w,
				size_t *k);
/* metrics_away.c: the login's own networks beside an unfamiliar address
 * abroad (at), in its country, seen within w: a trip's networks that
 * became familiar (see there). */
size_t metrics_trip_known_nets(const struct metrics_ctx *c, uint32_t w,
			       const struct store_ip *at);
/* ... the login's own networks with an address seen within w in the
 * country cc, added to a set of n network keys (room for STORE_IPS_MAX
 * more) unless in it; the set's size then */
size_t metrics_own_nets_in(const struct metrics_ctx *c, uint32_t w,
			   const char cc[3], uint64_t *set, size_t n);
/* metrics_bulk.c: a bulk sender's newsletter (see there). The usual
 * recipients hour's widening (policy.usual_recipients_margin); may a
 * message of rcpts recipients from the home place note the owner at home
 * (not past METRICS_BULK_RCPTS: a list's or a scheduled send's)? */
#define METRICS_BULK_RCPTS 50
uint64_t metrics_rcpts_slack(const struct metrics_ctx *c, uint64_t usual,
			     uint32_t w);
void metrics_slack_text(uint64_t slack, char *ev, size_t evlen);
bool metrics_home_note(uint32_t rcpts);
bool metrics_bulk_note(uint32_t rcpts);
uint64_t metrics_bulk_alone(const struct metrics_ctx *c, uint64_t v,
			    uint64_t usual, uint64_t widened, uint32_t w);
/* ... the bulk_messages metric: the login's bulk messages in the window,
 * this one among them (0 while it is not one): the last one let through
 * (store_bulk.c keeps its hour alone) and this one: at most
 * CFG_BULK_MESSAGES_MAX */
uint64_t metrics_bulk_messages(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen);
/* metrics.c: is the site past learning, is an address the site's (pinned,
 * vouched, its networks), mail let through from a located place before
 * today, the login's learned entry for a network. */
bool metrics_site_learned(const struct metrics_ctx *c);
bool metrics_site_known(const struct metrics_ctx *c, const struct addr *ip);
bool metrics_located_before_today(const struct metrics_ctx *c);
const struct store_net *metrics_learned_net(const struct metrics_ctx *c,
					    const struct addr *ip, uint32_t asn);
/* ... and the login's record of a country (two letters), or NULL */
const struct store_country *metrics_country(const struct metrics_ctx *c,
					    const char *cc);
/* metrics_hop.c: a learning login's networks new today, which
 * unfamiliar_places counts for it (see there). */
bool metrics_hop_on(const struct metrics_ctx *c);
const struct store_ip *metrics_hop_ip(const struct metrics_ctx *c, uint32_t w,
				      size_t *i);
/* metrics_pools.c: carrier_networks, the carriers' pools of the login's
 * country in the window when they are at this many hubs or more (at two
 * past the login's usual pool hour) and one is new to the login (mobile
 * proxies, see there). */
#define METRICS_POOL_HUBS 3
uint64_t metrics_carrier_networks(const struct metrics_ctx *c, uint32_t w,
				  char *ev, size_t evlen);
/* ... and is a network (its country cc) one of the login's own pools
 * (learned before today, not held at by carrier-hopping since)? */
bool metrics_pool_own(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn, const char *cc);
/* The GEO_CAP_* bits a metric needs (0: none). */
unsigned metrics_geo_needs(enum cfg_metric m);
bool metrics_available(enum cfg_metric m, const struct metrics_ctx *c);
/* ev may be NULL: the value only, no text (the common, fast case). */
uint64_t metrics_eval(enum cfg_metric m, const struct metrics_ctx *c,
		      uint32_t window_s, char *ev, size_t evlen);

#endif
