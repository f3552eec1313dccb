/* Test FMU: exact exponential decay that refuses steps longer than maxStepSize. */
#include "tf_model.h"

struct tf_model_state { int unused; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) { (void)s; v->x = v->x0; v->discards = 0; }
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)ctx; (void)s; (void)start_time;
    v->x = v->x0;
    v->discards = 0;
    return TF_OK;
}
void tf_model_evaluate(tf_vars *v, tf_model_state *s) { (void)s; (void)v; }
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)s;
    if (h > v->maxStepSize * (1 + 1e-12)) {
        v->discards++;
        TF_LOG(ctx, TF_DISCARD, "logStatusDiscard", "step of %g s from t=%g s is longer than maxStepSize %g s", h, t, v->maxStepSize);
        return TF_DISCARD;
    }
    v->x *= exp(-v->rate * h);
    return TF_OK;
}
TF_NO_TIME_EVENTS
