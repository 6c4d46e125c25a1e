/* crash_restart.pml -- Spin twin of crash_restart.ha (= tests/models/crash_restart.ha).
 * Expected: 15 states, stored (modelcheck: 15 distinct states).
 *
 * Globals = the modelcheck state: A.p (persistent), A.v (volatile), A's
 * up/down status, and the remaining budgets of `crash at most 2` and
 * `restart at most 1`. One process, one do-loop of d_step alternatives (see
 * unordered_sum.pml for why each Spin state is one modelcheck state).
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
byte p = 0;
byte v = 0;
bool up = 1;
byte cb = 2;     /* crash budget   */
byte rb = 1;     /* restart budget */

#define INV  assert(p <= 2)

active proctype world() {
end:
  do
  :: d_step { up && p < 2 -> p++; INV }                  /* A.incp */
  :: d_step { up && v == 0 -> v = 1; INV }               /* A.setv */
  :: d_step { up && cb > 0 -> up = 0; cb--; v = 0; INV } /* crash A: volatile v reset */
  :: d_step { !up && rb > 0 -> up = 1; rb--; v = 1; INV }/* restart A; on restart { v = 1 } */
  od
}
