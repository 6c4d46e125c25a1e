/* fifo_pingpong.pml -- Spin twin of fifo_pingpong.ha.
 *
 * Globals = the modelcheck state:
 *   next, acked             Client's variables
 *   expect                  Server's variable
 *   cs[], cslen             FIFO queue Client -> Server (payloads of Req)
 *   sc[], sclen             FIFO queue Server -> Client (payloads of Ack)
 *   lb, db                  budgets of `loss at most 1`, `duplicate at most 1`
 * Capacity 4 is never exceeded (3 sends + 1 duplicate; replies <= requests
 * delivered + 1 duplicate). Slots at or beyond the length are kept 0 so that
 * equal queues are equal state vectors. j is a scratch index, always 0
 * between steps. One process, one do-loop of d_step alternatives: each Spin
 * state is one modelcheck state (see unordered_sum.pml).
 * Expected: 440 states, stored (also confirmed by an independent Python enumeration).
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
#define CAP 4
byte next = 0;  byte acked = 0;  byte expect = 0;
byte cs[CAP];  byte cslen = 0;
byte sc[CAP];  byte sclen = 0;
byte lb = 1;  byte db = 1;
byte j = 0;

#define INV  assert(acked <= next && expect <= next)

/* remove element at position i of queue q (length len), keep the tail zeroed */
#define REMOVE(q, len, i) \
  j = i; \
  do \
  :: j < CAP - 1 -> q[j] = q[j + 1]; j++ \
  :: else -> break \
  od; \
  q[CAP - 1] = 0; len--; j = 0

#define LOSS(q, len, i)  :: d_step { lb > 0 && len > i -> REMOVE(q, len, i); lb--; INV }
#define DUP(q, len, i)   :: d_step { db > 0 && len > i -> q[len] = q[i]; len++; db--; INV }

active proctype world() {
end:
  do
  /* Client.emit: Req(next) to the tail of Client -> Server */
  :: d_step { next < 3 -> cs[cslen] = next; cslen++; next++; INV }
  /* Client <- Ack(n), the head of Server -> Client: acked = n + 1 */
  :: d_step { sclen > 0 -> acked = sc[0] + 1; REMOVE(sc, sclen, 0); INV }
  /* Server <- Req(n), the head of Client -> Server */
  :: d_step { cslen > 0 ->
       if :: cs[0] == expect -> expect++ :: else -> skip fi;
       sc[sclen] = cs[0]; sclen++;          /* reply Ack(n) */
       REMOVE(cs, cslen, 0); INV }
  /* loss: drop any queued message */
  LOSS(cs, cslen, 0)
  LOSS(cs, cslen, 1)
  LOSS(cs, cslen, 2)
  LOSS(cs, cslen, 3)
  LOSS(sc, sclen, 0)
  LOSS(sc, sclen, 1)
  LOSS(sc, sclen, 2)
  LOSS(sc, sclen, 3)
  /* duplicate: copy any queued message to the tail of its queue */
  DUP(cs, cslen, 0)
  DUP(cs, cslen, 1)
  DUP(cs, cslen, 2)
  DUP(cs, cslen, 3)
  DUP(sc, sclen, 0)
  DUP(sc, sclen, 1)
  DUP(sc, sclen, 2)
  DUP(sc, sclen, 3)
  od
}
