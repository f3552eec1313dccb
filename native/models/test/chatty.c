/* Test FMU: formatted log messages through the importer's logger. */
#include <string.h>
#include "tf_model.h"

struct tf_model_state { int unused; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) { (void)s; v->steps = 0; }
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)s;
    char filler[1201];
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    TF_LOG(ctx, TF_OK, "logEvents", "long message: %s|%d", filler, 1200);
    TF_LOG(ctx, TF_WARNING, "logEvents", "initialized %s at t=%.2f", v->label, start_time);
    v->steps = 0;
    return TF_OK;
}
void tf_model_evaluate(tf_vars *v, tf_model_state *s) { (void)s; (void)v; }
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)s;
    v->steps++;
    TF_LOG(ctx, TF_OK, "logEvents", "step %d at t=%f from %s: %s %.3e %%", v->steps, t + h, ctx->instance_name, v->label, v->u);
    return TF_OK;
}
TF_NO_TIME_EVENTS
