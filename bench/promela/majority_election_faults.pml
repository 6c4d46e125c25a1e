/* majority_election_faults.pml -- Spin twin of majority_election_faults.ha,
 * a copy of specs/majority_election.ha with its whole faults block: crash
 * Server at most 1, restart, partition at most 1, heal, loss at most LOSS.
 * The encoding is in majority_election.pmh (read its header).
 * Consts N (default 3), MAX_TERM (default 2), LOSS (default 1): spin -DLOSS=0 ...
 * Offset 0: Spin's "states, stored" = modelcheck's distinct_states.
 * Expected (N=3, MAX_TERM=2): LOSS=1: 265,125 states, stored    LOSS=0: 30,420
 */
#define CRASH
#define PARTITION
#define LOSS_FAULT
#include "majority_election.pmh"
