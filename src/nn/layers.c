/* layers.c: the layer kinds' types in dg_layer_kind order, from the one
 * list in nn.h (DG_LAYER_KINDS); each type lives in its layer's file. */
#include "nn/nn.h"

const dg_layer_type *const dg_layer_types[DG_L_KINDS] = {
#define DG_KIND_ENTRY(kind, type) [DG_L_##kind] = &type,
    DG_LAYER_KINDS(DG_KIND_ENTRY)
#undef DG_KIND_ENTRY
};
