/* Test FMU: fails on purpose once t + h > failAt. */
#include "tf_model.h"

struct tf_model_state { int unused; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) { (void)s; v->x = 0; }
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)ctx; (void)s;
    v->x = start_time;
    return TF_OK;
}
void tf_model_evaluate(tf_vars *v, tf_model_state *s) { (void)s; (void)v; }
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)s;
    if (t + h > v->failAt) {
        TF_LOG(ctx, v->fatal ? TF_FATAL : TF_ERROR, "logStatusError", "failing on purpose: step to %g s passes failAt %g s", t + h, v->failAt);
        return v->fatal ? TF_FATAL : TF_ERROR;
    }
    v->x = t + h;
    return TF_OK;
}
TF_NO_TIME_EVENTS
