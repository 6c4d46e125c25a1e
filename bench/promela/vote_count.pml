/* vote_count.pml -- Spin twin of vote_count.ha (the vote-counting election:
 * every node may stand once unless it already voted, every Join gets an Ack,
 * only the first Join a node receives gets its vote; `delivery unordered`, no
 * faults). bench/spin_crosscheck.py compares the counts.
 *
 * Const N (nodes, 2..6, default 4 as in the .ha), overridable like the .ha
 * const: spin -DN=3 ... (spin_crosscheck passes the same NAME=VALUE to spin as
 * -DNAME=VALUE and to modelcheck as --const NAME=VALUE).
 *
 * One Spin state = one modelcheck state. Globals, one per state component:
 *   stood[i], voted[i]      Node i's stood and voted (voted = NONE for `none`,
 *                           else the node id it voted for)
 *   votes[i], answers[i]    its counters (0..N)
 *   lead[i]                 its leader flag
 *   join[JI(c, i)]          the in-flight MULTISET under `delivery unordered`:
 *                           number of copies of Join from c to i
 *   ack[AI(v, c, g)]        copies of Ack(g) from v to c (g = 0 false, 1 true)
 * (Each message is sent at most once in this protocol, so the counters stay
 * 0..1, but they are kept as counters like the other unordered twins:
 * delivery consumes one copy, sending adds one.) Counters with c == i are
 * never set (broadcast excludes the sender; a node never replies to itself).
 * Temporaries (loop counters) are `hidden`: not in the state vector.
 *
 * Steps, one d_step each, guards exactly modelcheck's:
 *   STAND(i)      action stand: not stood and voted == none; broadcast Join to
 *                 every OTHER node
 *   JOIN(c, i)    i receives Join from c (one copy in flight): votes for c with
 *                 Ack(true) if it has not voted, else Ack(false)
 *   ACK(v, c, g)  c receives Ack(g) from v: answers++, and if g, votes++ and
 *                 leader once 2 * votes > N
 * The alternatives are expanded by cpp for the configured N only (no dead
 * alternatives, no c == i lines). Every step changes the state (a delivery
 * consumes its message), so there are no self-loops.
 *
 * The invariant one_leader (at most one leader) is asserted at the end of
 * every step (no never claim). Offset 0: the loop head is the only control
 * location, so Spin's "states, stored" = modelcheck's distinct_states
 * (--no-symmetry --keep-partitions --keep-dead-messages). Expected:
 *   N=3: 1,108 states, stored    N=4: 701,056 (pan about 2 s)
 *   N=5: not counted; more than 10^8 states (a -DBITSTATE -w34 search was
 *   still going after 10 minutes; exact storage took 1.4 GB at 7 million)
 *
 * Run (bench/spin_crosscheck.py does this in a temporary directory):
 *   spin -o1 -o2 -o3 -DN=3 -a vote_count.pml && gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c && ./pan
 * and read "N states, stored" (see unordered_sum.pml for the options).
 */
#ifndef N
#define N 4
#endif
#if N < 2 || N > 6
#error "N must be 2..6"
#endif

#define NONE 255
#define JI(c, i) ((c) * N + (i))
#define AI(v, c, g) ((((v) * N) + (c)) * 2 + (g))

bool stood[N];
byte voted[N] = NONE;
byte votes[N];
byte answers[N];
bool lead[N];
byte join[N * N];
byte ack[N * N * 2];

hidden byte j;

/* cpp iteration over the configured nodes and ordered pairs */
#if N > 2
#define IF_N2(x) x
#else
#define IF_N2(x)
#endif
#if N > 3
#define IF_N3(x) x
#else
#define IF_N3(x)
#endif
#if N > 4
#define IF_N4(x) x
#else
#define IF_N4(x)
#endif
#if N > 5
#define IF_N5(x) x
#else
#define IF_N5(x)
#endif
#define NODES(X) X(0) X(1) IF_N2(X(2)) IF_N3(X(3)) IF_N4(X(4)) IF_N5(X(5))

/* one_leader: forall a, b: a.leader and b.leader => a == b, i.e. at most one
 * leader (spelled out, not NODES(...): INV is used inside NODES(STAND) etc.,
 * where cpp would not expand NODES again) */
#define INV assert(lead[0] + lead[1] IF_N2(+ lead[2]) IF_N3(+ lead[3]) IF_N4(+ lead[4]) IF_N5(+ lead[5]) <= 1)

/* every sender s != d (the s == d lines expand to nothing) */
#define PAIRS_TO(X, d) \
  SKIP_SELF(X, 0, d) SKIP_SELF(X, 1, d) IF_N2(SKIP_SELF(X, 2, d)) \
  IF_N3(SKIP_SELF(X, 3, d)) IF_N4(SKIP_SELF(X, 4, d)) IF_N5(SKIP_SELF(X, 5, d))
#define SKIP_SELF(X, s, d) SELF_##s##_##d(X(s, d))
#define SELF_0_0(x)
#define SELF_1_1(x)
#define SELF_2_2(x)
#define SELF_3_3(x)
#define SELF_4_4(x)
#define SELF_5_5(x)
#define SELF_0_1(x) x
#define SELF_0_2(x) x
#define SELF_0_3(x) x
#define SELF_0_4(x) x
#define SELF_0_5(x) x
#define SELF_1_0(x) x
#define SELF_1_2(x) x
#define SELF_1_3(x) x
#define SELF_1_4(x) x
#define SELF_1_5(x) x
#define SELF_2_0(x) x
#define SELF_2_1(x) x
#define SELF_2_3(x) x
#define SELF_2_4(x) x
#define SELF_2_5(x) x
#define SELF_3_0(x) x
#define SELF_3_1(x) x
#define SELF_3_2(x) x
#define SELF_3_4(x) x
#define SELF_3_5(x) x
#define SELF_4_0(x) x
#define SELF_4_1(x) x
#define SELF_4_2(x) x
#define SELF_4_3(x) x
#define SELF_4_5(x) x
#define SELF_5_0(x) x
#define SELF_5_1(x) x
#define SELF_5_2(x) x
#define SELF_5_3(x) x
#define SELF_5_4(x) x

/* action stand when not stood and voted == none */
#define STAND(i) \
  :: d_step { !stood[i] && voted[i] == NONE -> \
       stood[i] = 1; voted[i] = i; votes[i] = 1; answers[i] = 1; \
       j = 0; \
       do \
       :: j < N -> if :: j != i -> join[JI(i, j)]++ :: else -> skip fi; j++ \
       :: else -> break \
       od; \
       INV }

/* on Join from c: the first Join gets the vote */
#define JOIN(c, i) \
  :: d_step { join[JI(c, i)] > 0 -> \
       join[JI(c, i)]--; \
       if \
       :: voted[i] == NONE -> voted[i] = c; ack[AI(i, c, 1)]++ \
       :: else -> ack[AI(i, c, 0)]++ \
       fi; \
       INV }

/* on Ack(granted), from v to c */
#define ACK(v, c, g) \
  :: d_step { ack[AI(v, c, g)] > 0 -> \
       ack[AI(v, c, g)]--; answers[c]++; \
       if \
       :: g -> \
          votes[c]++; \
          if :: 2 * votes[c] > N -> lead[c] = 1 :: else -> skip fi \
       :: else -> skip \
       fi; \
       INV }
#define ACKS(v, c) ACK(v, c, 0) ACK(v, c, 1)

#define JOIN_TO(d) PAIRS_TO(JOIN, d)
#define ACK_TO(d) PAIRS_TO(ACKS, d)

active proctype world() {
end:
  do
  NODES(STAND)
  NODES(JOIN_TO)
  NODES(ACK_TO)
  od
}
