/* pingpong_faults.pml -- Spin twin of pingpong_faults.ha.
 *
 * Globals = the modelcheck state, one global per state component:
 *   next, acked, cup        Client.next (persistent), Client.acked, Client up?
 *   handled, last, sup      Server.handled (persistent), Server.last, Server up?
 *   ping0 ping1 pong0 pong1 the in-flight multiset (copies of each message;
 *                           there is one link each way, so kind+payload is
 *                           the whole identity of a message)
 *   cb rb lb db             budgets of crash / restart / loss / duplicate
 * One process, one do-loop of d_step alternatives: each Spin state is one
 * modelcheck state (see unordered_sum.pml). Crash resets the crashed node's
 * volatile variables to their initial values at once; a down node takes no
 * steps and receives nothing; messages to it stay in flight.
 * Expected: 831 states, stored (also confirmed by an independent Python enumeration).
 *
 * Run (bench/spin_crosscheck.py does this in a temporary directory):
 *   spin -o1 -o2 -o3 -a M.pml && gcc -O2 -DNOREDUCE -DSAFETY -o pan pan.c && ./pan
 * and read "N states, stored". -o2 matters: by default Spin hides write-only
 * variables from the state vector (e.g. a variable only assigned, never
 * read), which merges states that modelcheck keeps apart. -o1/-o3 (dataflow
 * optimisations, statement merging) cannot change this encoding's count but
 * are turned off so nothing but the model decides it. -DNOREDUCE: no
 * partial-order reduction. Offset: none -- the initial state is stored and
 * counted like any other, there is no extra end state, so Spin's count must
 * equal modelcheck's distinct_states exactly.
 */
byte next = 0;  byte acked = 0;  bool cup = 1;
byte handled = 0;  byte last = 0;  bool sup = 1;
byte ping0 = 0;  byte ping1 = 0;  byte pong0 = 0;  byte pong1 = 0;
byte cb = 1;  byte rb = 1;  byte lb = 1;  byte db = 1;

#define INV  assert(acked <= next)

active proctype world() {
end:
  do
  /* Client */
  :: d_step { cup && next < 2 ->                        /* Client.ping */
       if :: next == 0 -> ping0++ :: else -> ping1++ fi; next++; INV }
  :: d_step { cup && pong0 > 0 -> pong0--;              /* Client <- Pong(0) */
       if :: acked < 1 -> acked = 1 :: else -> skip fi; INV }
  :: d_step { cup && pong1 > 0 -> pong1--;              /* Client <- Pong(1) */
       if :: acked < 2 -> acked = 2 :: else -> skip fi; INV }
  /* Server */
  :: d_step { sup && ping0 > 0 && handled < 3 ->        /* Server <- Ping(0) */
       ping0--; handled++; last = 0; pong0++; INV }
  :: d_step { sup && ping1 > 0 && handled < 3 ->        /* Server <- Ping(1) */
       ping1--; handled++; last = 1; pong1++; INV }
  /* crash at most 1 (any node) */
  :: d_step { cup && cb > 0 -> cup = 0; cb--; acked = 0; INV }
  :: d_step { sup && cb > 0 -> sup = 0; cb--; last = 0; INV }
  /* restart at most 1 (any down node; no `on restart`) */
  :: d_step { !cup && rb > 0 -> cup = 1; rb--; INV }
  :: d_step { !sup && rb > 0 -> sup = 1; rb--; INV }
  /* loss at most 1: drop one in-flight copy */
  :: d_step { lb > 0 && ping0 > 0 -> ping0--; lb--; INV }
  :: d_step { lb > 0 && ping1 > 0 -> ping1--; lb--; INV }
  :: d_step { lb > 0 && pong0 > 0 -> pong0--; lb--; INV }
  :: d_step { lb > 0 && pong1 > 0 -> pong1--; lb--; INV }
  /* duplicate at most 1: copy one in-flight message */
  :: d_step { db > 0 && ping0 > 0 -> ping0++; db--; INV }
  :: d_step { db > 0 && ping1 > 0 -> ping1++; db--; INV }
  :: d_step { db > 0 && pong0 > 0 -> pong0++; db--; INV }
  :: d_step { db > 0 && pong1 > 0 -> pong1++; db--; INV }
  od
}
