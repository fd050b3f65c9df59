// The notation help shared by every command that takes interventions.
enum InterventionHelp {
    static let text = """
        Interventions are written LAYER:TYPE:RHO everywhere:
          LAYER  a layer index (0-based), a range `A-B` (both included), `input`
                 (a policy's stem conv and input embeddings, before layer 0) or `all`
          TYPE   a matrix type (fc_in, fc_up, fc_out, q_proj, k_proj, v_proj,
                 out_proj, conv, head, ...) or a group: `mlp`, `attn`, `all`
          RHO    the fraction of rank kept, in (0, 1]:
                 k = max(1, floor(RHO * min(m, n)));
                 or `rate=R` in the reference code's notation, RHO = 1 - 0.1 * R
                 (rate=9.9 is RHO 0.01)
        Examples: 27:fc_in:0.01   all:attn:0.5   3:mlp:rate=9   1-4:fc_out:0.01
                  input:conv:0.5
        """
}
