"""What each person runs: board operator, organiser, trustee, registrar, voter.

Each role keeps its own state directory (:mod:`verivote.roles.statedir`): its public
configuration in clear, its secrets encrypted under a passphrase
(:mod:`verivote.roles.keyfile`). No role's code reads another role's secrets; everything one
role needs from another comes from the board (read with the board client, replayed through
the rule book) or from a file the other role published. This layer sits above the
verifier and below the edges (CLI, HTTP service).
"""
