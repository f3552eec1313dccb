/*
 * Generic FMI 3.0 Co-Simulation wrapper around a Twinflow model (see tf_model.h). Supports event
 * mode (time events of the model are handed to the importer when eventModeUsed), early return at
 * time events (when earlyReturnAllowed), FMU state get/set/serialize, all scalar types, arrays and
 * binaries. Model Exchange and Scheduled Execution are refused at instantiation.
 */
#include "tf_core.h"

#define INST ((tf_instance *)instance)
#define LIVE_MASK TF_ANY_LIVE
#define GET_MASK (TF_M(TF_MODE_INSTANTIATED) | TF_M(TF_MODE_INITIALIZATION) | TF_M(TF_MODE_STEP) | TF_M(TF_MODE_EVENT) | TF_M(TF_MODE_TERMINATED))

void tf_log3(const tf_ctx *ctx, tf_status status, const char *category, const char *format, ...) {
    if (!ctx->log_message || !(ctx->logging_on || status >= TF_ERROR)) return;
    char stack[512];
    va_list args, again;
    va_start(args, format);
    va_copy(again, args);
    const int needed = vsnprintf(stack, sizeof stack, format, args);
    va_end(args);
    if (needed >= 0 && (size_t)needed >= sizeof stack) {
        char *heap = malloc((size_t)needed + 1);
        if (heap) {
            vsnprintf(heap, (size_t)needed + 1, format, again);
            ctx->log_message(ctx->env, (fmi3Status)status, category, heap);
            free(heap);
            va_end(again);
            return;
        }
    }
    va_end(again);
    ctx->log_message(ctx->env, (fmi3Status)status, category, needed < 0 ? format : stack);
}

TF_EXPORT const char *fmi3GetVersion(void) { return "3.0"; }

TF_EXPORT fmi3Status fmi3SetDebugLogging(fmi3Instance instance, fmi3Boolean loggingOn, size_t nCategories, const fmi3String categories[]) {
    (void)nCategories; (void)categories;
    if (!tf_core_allowed(INST, "fmi3SetDebugLogging", LIVE_MASK | TF_M(TF_MODE_EVENT))) return fmi3Error;
    INST->ctx.logging_on = loggingOn;
    return fmi3OK;
}

TF_EXPORT fmi3Instance fmi3InstantiateModelExchange(fmi3String instanceName, fmi3String instantiationToken, fmi3String resourcePath,
                                                    fmi3Boolean visible, fmi3Boolean loggingOn, fmi3InstanceEnvironment instanceEnvironment,
                                                    fmi3LogMessageCallback logMessage) {
    (void)instantiationToken; (void)resourcePath; (void)visible;
    tf_ctx ctx = { .instance_name = instanceName ? instanceName : "", .logging_on = loggingOn, .log_message = logMessage, .env = instanceEnvironment };
    TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateModelExchange: %s supports Co-Simulation only", TF_MODEL_IDENTIFIER);
    return NULL;
}

TF_EXPORT fmi3Instance fmi3InstantiateCoSimulation(fmi3String instanceName, fmi3String instantiationToken, fmi3String resourcePath,
                                                   fmi3Boolean visible, fmi3Boolean loggingOn, fmi3Boolean eventModeUsed,
                                                   fmi3Boolean earlyReturnAllowed, const fmi3ValueReference requiredIntermediateVariables[],
                                                   size_t nRequiredIntermediateVariables, fmi3InstanceEnvironment instanceEnvironment,
                                                   fmi3LogMessageCallback logMessage, fmi3IntermediateUpdateCallback intermediateUpdate) {
    (void)resourcePath; (void)visible; (void)requiredIntermediateVariables; (void)intermediateUpdate;
    tf_ctx ctx = { .instance_name = instanceName ? instanceName : "", .logging_on = loggingOn, .log_message = logMessage, .env = instanceEnvironment };
    if (!instanceName || !*instanceName) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateCoSimulation: instanceName is empty");
        return NULL;
    }
    if (!instantiationToken || strcmp(instantiationToken, TF_INSTANTIATION_TOKEN) != 0) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateCoSimulation: instantiationToken %s does not match %s",
               instantiationToken ? instantiationToken : "(null)", TF_INSTANTIATION_TOKEN);
        return NULL;
    }
    if (eventModeUsed && !TF_HAS_EVENT_MODE) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateCoSimulation: %s has no event mode (hasEventMode=false)", TF_MODEL_IDENTIFIER);
        return NULL;
    }
    if (nRequiredIntermediateVariables > 0) {
        TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateCoSimulation: intermediate variable access is not provided");
        return NULL;
    }
    tf_instance *inst = tf_core_new(instanceName, &ctx);
    if (inst) {
        inst->event_mode_used = eventModeUsed;
        inst->early_return_allowed = earlyReturnAllowed;
    }
    return inst;
}

TF_EXPORT fmi3Instance fmi3InstantiateScheduledExecution(fmi3String instanceName, fmi3String instantiationToken, fmi3String resourcePath,
                                                         fmi3Boolean visible, fmi3Boolean loggingOn, fmi3InstanceEnvironment instanceEnvironment,
                                                         fmi3LogMessageCallback logMessage, fmi3ClockUpdateCallback clockUpdate,
                                                         fmi3LockPreemptionCallback lockPreemption, fmi3UnlockPreemptionCallback unlockPreemption) {
    (void)instantiationToken; (void)resourcePath; (void)visible; (void)clockUpdate; (void)lockPreemption; (void)unlockPreemption;
    tf_ctx ctx = { .instance_name = instanceName ? instanceName : "", .logging_on = loggingOn, .log_message = logMessage, .env = instanceEnvironment };
    TF_LOG(&ctx, TF_ERROR, "logStatusError", "fmi3InstantiateScheduledExecution: %s supports Co-Simulation only", TF_MODEL_IDENTIFIER);
    return NULL;
}

TF_EXPORT void fmi3FreeInstance(fmi3Instance instance) { tf_core_free(INST); }

TF_EXPORT fmi3Status fmi3EnterInitializationMode(fmi3Instance instance, fmi3Boolean toleranceDefined, fmi3Float64 tolerance,
                                                 fmi3Float64 startTime, fmi3Boolean stopTimeDefined, fmi3Float64 stopTime) {
    (void)toleranceDefined; (void)tolerance; (void)stopTimeDefined; (void)stopTime;
    if (!INST) return fmi3Error;
    return (fmi3Status)tf_core_enter_initialization(INST, startTime);
}

TF_EXPORT fmi3Status fmi3ExitInitializationMode(fmi3Instance instance) {
    if (!INST) return fmi3Error;
    return (fmi3Status)tf_core_exit_initialization(INST, INST->event_mode_used ? TF_MODE_EVENT : TF_MODE_STEP);
}

TF_EXPORT fmi3Status fmi3EnterEventMode(fmi3Instance instance) {
    if (!tf_core_allowed(INST, "fmi3EnterEventMode", TF_M(TF_MODE_STEP))) return fmi3Error;
    if (!INST->event_mode_used) {
        TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi3EnterEventMode: instantiated with eventModeUsed=false");
        return (fmi3Status)tf_core_fail(INST, TF_ERROR);
    }
    INST->st.mode = TF_MODE_EVENT;
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3EnterStepMode(fmi3Instance instance) {
    if (!tf_core_allowed(INST, "fmi3EnterStepMode", TF_M(TF_MODE_EVENT))) return fmi3Error;
    INST->st.mode = TF_MODE_STEP;
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3UpdateDiscreteStates(fmi3Instance instance, fmi3Boolean *discreteStatesNeedUpdate, fmi3Boolean *terminateSimulation,
                                              fmi3Boolean *nominalsOfContinuousStatesChanged, fmi3Boolean *valuesOfContinuousStatesChanged,
                                              fmi3Boolean *nextEventTimeDefined, fmi3Float64 *nextEventTime) {
    if (!tf_core_allowed(INST, "fmi3UpdateDiscreteStates", TF_M(TF_MODE_EVENT))) return fmi3Error;
    tf_status status = TF_OK;
    if (INST->st.event_pending) {
        INST->st.event_pending = false;
        status = tf_core_time_event(INST, INST->st.v.time);
        if (status >= TF_ERROR) return (fmi3Status)tf_core_fail(INST, status);
    } else {
        tf_core_evaluate_if_dirty(INST);
    }
    const double next = tf_model_next_time_event(&INST->st.v, TF_MODEL_OF(INST));
    *discreteStatesNeedUpdate = false;
    *terminateSimulation = false;
    *nominalsOfContinuousStatesChanged = false;
    *valuesOfContinuousStatesChanged = false;
    *nextEventTimeDefined = isfinite(next);
    *nextEventTime = isfinite(next) ? next : 0.0;
    return (fmi3Status)status;
}

TF_EXPORT fmi3Status fmi3Terminate(fmi3Instance instance) {
    if (!tf_core_allowed(INST, "fmi3Terminate", TF_M(TF_MODE_STEP) | TF_M(TF_MODE_EVENT))) return fmi3Error;
    INST->st.mode = TF_MODE_TERMINATED;
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3Reset(fmi3Instance instance) {
    if (!INST) return fmi3Error;
    tf_core_reset(INST);
    return fmi3OK;
}

/* ---- typed getters and setters: scalars and arrays, nValues counts elements ---- */
static const tf_var_info *tf3_lookup(fmi3Instance instance, fmi3ValueReference vr, tf_type type, const char *function, size_t *used, size_t nValues) {
    const tf_var_info *info = tf_core_variable(INST, vr, type, function);
    if (!info) return NULL;
    if (*used + info->count > nValues) {
        TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "%s: nValues %zu is too small for %s", function, nValues, info->name);
        return NULL;
    }
    return info;
}

#define TF3_ACCESSORS(Name, CType, TfType)                                                                                   \
    TF_EXPORT fmi3Status fmi3Get##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, CType values[],     \
                                       size_t nValues) {                                                                     \
        if (!tf_core_allowed(INST, "fmi3Get" #Name, GET_MASK)) return fmi3Error;                                             \
        tf_core_evaluate_if_dirty(INST);                                                                                     \
        size_t used = 0;                                                                                                     \
        for (size_t i = 0; i < nvr; i++) {                                                                                   \
            const tf_var_info *info = tf3_lookup(instance, vr[i], TfType, "fmi3Get" #Name, &used, nValues);                  \
            if (!info) return (fmi3Status)tf_core_fail(INST, TF_ERROR);                                                      \
            memcpy(values + used, tf_core_field(INST, info), info->count * sizeof(CType));                                   \
            used += info->count;                                                                                             \
        }                                                                                                                    \
        return fmi3OK;                                                                                                       \
    }                                                                                                                        \
    TF_EXPORT fmi3Status fmi3Set##Name(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const CType values[], \
                                       size_t nValues) {                                                                     \
        if (!tf_core_allowed(INST, "fmi3Set" #Name, LIVE_MASK | TF_M(TF_MODE_EVENT))) return fmi3Error;                      \
        size_t used = 0;                                                                                                     \
        for (size_t i = 0; i < nvr; i++) {                                                                                   \
            const tf_var_info *info = tf3_lookup(instance, vr[i], TfType, "fmi3Set" #Name, &used, nValues);                  \
            if (!info || !tf_core_settable(INST, info, "fmi3Set" #Name)) return (fmi3Status)tf_core_fail(INST, TF_ERROR);    \
            memcpy(tf_core_field(INST, info), values + used, info->count * sizeof(CType));                                   \
            used += info->count;                                                                                             \
        }                                                                                                                    \
        INST->st.dirty = true;                                                                                               \
        return fmi3OK;                                                                                                       \
    }

TF3_ACCESSORS(Float32, fmi3Float32, TF_FLOAT32)
TF3_ACCESSORS(Float64, fmi3Float64, TF_FLOAT64)
TF3_ACCESSORS(Int8, fmi3Int8, TF_INT8)
TF3_ACCESSORS(UInt8, fmi3UInt8, TF_UINT8)
TF3_ACCESSORS(Int16, fmi3Int16, TF_INT16)
TF3_ACCESSORS(UInt16, fmi3UInt16, TF_UINT16)
TF3_ACCESSORS(Int32, fmi3Int32, TF_INT32)
TF3_ACCESSORS(UInt32, fmi3UInt32, TF_UINT32)
TF3_ACCESSORS(Int64, fmi3Int64, TF_INT64)
TF3_ACCESSORS(UInt64, fmi3UInt64, TF_UINT64)
TF3_ACCESSORS(Boolean, fmi3Boolean, TF_BOOLEAN)

TF_EXPORT fmi3Status fmi3GetString(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3String values[], size_t nValues) {
    if (!tf_core_allowed(INST, "fmi3GetString", GET_MASK)) return fmi3Error;
    tf_core_evaluate_if_dirty(INST);
    size_t used = 0;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf3_lookup(instance, vr[i], TF_STRING, "fmi3GetString", &used, nValues);
        if (!info) return (fmi3Status)tf_core_fail(INST, TF_ERROR);
        for (size_t k = 0; k < info->count; k++) values[used++] = (const char *)tf_core_field(INST, info) + k * TF_STRING_CAPACITY;
    }
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3SetString(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3String values[], size_t nValues) {
    if (!tf_core_allowed(INST, "fmi3SetString", LIVE_MASK | TF_M(TF_MODE_EVENT))) return fmi3Error;
    size_t used = 0;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf3_lookup(instance, vr[i], TF_STRING, "fmi3SetString", &used, nValues);
        if (!info || !tf_core_settable(INST, info, "fmi3SetString")) return (fmi3Status)tf_core_fail(INST, TF_ERROR);
        for (size_t k = 0; k < info->count; k++, used++) {
            if (!values[used] || strlen(values[used]) >= TF_STRING_CAPACITY) {
                TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi3SetString: %s must be at most %d bytes", info->name, TF_STRING_CAPACITY - 1);
                return (fmi3Status)tf_core_fail(INST, TF_ERROR);
            }
            strcpy((char *)tf_core_field(INST, info) + k * TF_STRING_CAPACITY, values[used]);
        }
    }
    INST->st.dirty = true;
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3GetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, size_t valueSizes[], fmi3Binary values[],
                                   size_t nValues) {
    if (!tf_core_allowed(INST, "fmi3GetBinary", GET_MASK)) return fmi3Error;
    tf_core_evaluate_if_dirty(INST);
    size_t used = 0;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf3_lookup(instance, vr[i], TF_BINARY, "fmi3GetBinary", &used, nValues);
        if (!info) return (fmi3Status)tf_core_fail(INST, TF_ERROR);
        values[used] = (const fmi3Byte *)tf_core_field(INST, info);
        valueSizes[used] = *(const size_t *)((const char *)&INST->st.v + info->size_offset);
        used++;
    }
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3SetBinary(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const size_t valueSizes[],
                                   const fmi3Binary values[], size_t nValues) {
    if (!tf_core_allowed(INST, "fmi3SetBinary", LIVE_MASK | TF_M(TF_MODE_EVENT))) return fmi3Error;
    size_t used = 0;
    for (size_t i = 0; i < nvr; i++) {
        const tf_var_info *info = tf3_lookup(instance, vr[i], TF_BINARY, "fmi3SetBinary", &used, nValues);
        if (!info || !tf_core_settable(INST, info, "fmi3SetBinary")) return (fmi3Status)tf_core_fail(INST, TF_ERROR);
        if (valueSizes[used] > TF_BINARY_CAPACITY) {
            TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi3SetBinary: %s holds at most %d bytes", info->name, TF_BINARY_CAPACITY);
            return (fmi3Status)tf_core_fail(INST, TF_ERROR);
        }
        memcpy(tf_core_field(INST, info), values[used], valueSizes[used]);
        *(size_t *)((char *)&INST->st.v + info->size_offset) = valueSizes[used];
        used++;
    }
    INST->st.dirty = true;
    return fmi3OK;
}

/* ---- FMU state ---- */
TF_EXPORT fmi3Status fmi3GetFMUState(fmi3Instance instance, fmi3FMUState *state) {
    if (!tf_core_allowed(INST, "fmi3GetFMUState", LIVE_MASK | TF_M(TF_MODE_EVENT))) return fmi3Error;
    if (!*state) *state = malloc(tf_snapshot_size());
    if (!*state) return fmi3Error;
    tf_snapshot_take(INST, *state);
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3SetFMUState(fmi3Instance instance, fmi3FMUState state) {
    if (!tf_core_allowed(INST, "fmi3SetFMUState", LIVE_MASK | TF_M(TF_MODE_EVENT)) || !state) return fmi3Error;
    tf_snapshot_restore(INST, state);
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3FreeFMUState(fmi3Instance instance, fmi3FMUState *state) {
    (void)instance;
    if (state) { free(*state); *state = NULL; }
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3SerializedFMUStateSize(fmi3Instance instance, fmi3FMUState state, size_t *size) {
    (void)instance; (void)state;
    *size = tf_serialized_size();
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3SerializeFMUState(fmi3Instance instance, fmi3FMUState state, fmi3Byte serialized[], size_t size) {
    if (!INST || !state || size < tf_serialized_size()) return fmi3Error;
    const uint64_t tag = tf_serial_tag();
    memcpy(serialized, &tag, sizeof tag);
    memcpy(serialized + sizeof tag, state, tf_snapshot_size());
    return fmi3OK;
}

TF_EXPORT fmi3Status fmi3DeserializeFMUState(fmi3Instance instance, const fmi3Byte serialized[], size_t size, fmi3FMUState *state) {
    uint64_t tag;
    if (!INST) return fmi3Error;
    if (size != tf_serialized_size() || (memcpy(&tag, serialized, sizeof tag), tag != tf_serial_tag())) {
        TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "fmi3DeserializeFMUState: the bytes are not a state of %s", TF_MODEL_IDENTIFIER);
        return fmi3Error;
    }
    if (!*state) *state = malloc(tf_snapshot_size());
    if (!*state) return fmi3Error;
    memcpy(*state, serialized + sizeof tag, tf_snapshot_size());
    return fmi3OK;
}

/* ---- stepping ---- */
TF_EXPORT fmi3Status fmi3DoStep(fmi3Instance instance, fmi3Float64 currentCommunicationPoint, fmi3Float64 communicationStepSize,
                                fmi3Boolean noSetFMUStatePriorToCurrentPoint, fmi3Boolean *eventHandlingNeeded,
                                fmi3Boolean *terminateSimulation, fmi3Boolean *earlyReturn, fmi3Float64 *lastSuccessfulTime) {
    (void)noSetFMUStatePriorToCurrentPoint;
    if (!INST) return fmi3Error;
    tf_step_result result;
    const tf_status status = tf_core_do_step(INST, currentCommunicationPoint, communicationStepSize, INST->early_return_allowed,
                                             INST->event_mode_used, &result);
    *eventHandlingNeeded = result.event_handling_needed;
    *terminateSimulation = false;
    *earlyReturn = result.early_return;
    *lastSuccessfulTime = INST->st.v.time;
    return (fmi3Status)status;
}

/* ---- not provided (capability flags say so) ---- */
static fmi3Status tf_not_provided(fmi3Instance instance, const char *function) {
    if (INST) {
        TF_LOG(&INST->ctx, TF_ERROR, "logStatusError", "%s is not provided by %s", function, TF_MODEL_IDENTIFIER);
        INST->st.mode = TF_MODE_ERROR;
    }
    return fmi3Error;
}

TF_EXPORT fmi3Status fmi3GetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3Clock values[]) {
    (void)vr; (void)nvr; (void)values;
    return tf_not_provided(instance, "fmi3GetClock");
}
TF_EXPORT fmi3Status fmi3SetClock(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3Clock values[]) {
    (void)vr; (void)nvr; (void)values;
    return tf_not_provided(instance, "fmi3SetClock");
}
TF_EXPORT fmi3Status fmi3GetNumberOfVariableDependencies(fmi3Instance instance, fmi3ValueReference vr, size_t *n) {
    (void)vr; (void)n;
    return tf_not_provided(instance, "fmi3GetNumberOfVariableDependencies");
}
TF_EXPORT fmi3Status fmi3GetVariableDependencies(fmi3Instance instance, fmi3ValueReference dependent, size_t elementIndicesOfDependent[],
                                                 fmi3ValueReference independents[], size_t elementIndicesOfIndependents[],
                                                 fmi3DependencyKind dependencyKinds[], size_t nDependencies) {
    (void)dependent; (void)elementIndicesOfDependent; (void)independents; (void)elementIndicesOfIndependents; (void)dependencyKinds; (void)nDependencies;
    return tf_not_provided(instance, "fmi3GetVariableDependencies");
}
TF_EXPORT fmi3Status fmi3GetDirectionalDerivative(fmi3Instance instance, const fmi3ValueReference unknowns[], size_t nUnknowns,
                                                  const fmi3ValueReference knowns[], size_t nKnowns, const fmi3Float64 seed[], size_t nSeed,
                                                  fmi3Float64 sensitivity[], size_t nSensitivity) {
    (void)unknowns; (void)nUnknowns; (void)knowns; (void)nKnowns; (void)seed; (void)nSeed; (void)sensitivity; (void)nSensitivity;
    return tf_not_provided(instance, "fmi3GetDirectionalDerivative");
}
TF_EXPORT fmi3Status fmi3GetAdjointDerivative(fmi3Instance instance, const fmi3ValueReference unknowns[], size_t nUnknowns,
                                              const fmi3ValueReference knowns[], size_t nKnowns, const fmi3Float64 seed[], size_t nSeed,
                                              fmi3Float64 sensitivity[], size_t nSensitivity) {
    (void)unknowns; (void)nUnknowns; (void)knowns; (void)nKnowns; (void)seed; (void)nSeed; (void)sensitivity; (void)nSensitivity;
    return tf_not_provided(instance, "fmi3GetAdjointDerivative");
}
TF_EXPORT fmi3Status fmi3EnterConfigurationMode(fmi3Instance instance) { return tf_not_provided(instance, "fmi3EnterConfigurationMode"); }
TF_EXPORT fmi3Status fmi3ExitConfigurationMode(fmi3Instance instance) { return tf_not_provided(instance, "fmi3ExitConfigurationMode"); }
TF_EXPORT fmi3Status fmi3EvaluateDiscreteStates(fmi3Instance instance) { return tf_not_provided(instance, "fmi3EvaluateDiscreteStates"); }
TF_EXPORT fmi3Status fmi3GetOutputDerivatives(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3Int32 orders[],
                                              fmi3Float64 values[], size_t nValues) {
    (void)vr; (void)nvr; (void)orders; (void)values; (void)nValues;
    return tf_not_provided(instance, "fmi3GetOutputDerivatives");
}
TF_EXPORT fmi3Status fmi3GetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3Float64 intervals[],
                                            fmi3IntervalQualifier qualifiers[]) {
    (void)vr; (void)nvr; (void)intervals; (void)qualifiers;
    return tf_not_provided(instance, "fmi3GetIntervalDecimal");
}
TF_EXPORT fmi3Status fmi3GetIntervalFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3UInt64 counters[],
                                             fmi3UInt64 resolutions[], fmi3IntervalQualifier qualifiers[]) {
    (void)vr; (void)nvr; (void)counters; (void)resolutions; (void)qualifiers;
    return tf_not_provided(instance, "fmi3GetIntervalFraction");
}
TF_EXPORT fmi3Status fmi3GetShiftDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3Float64 shifts[]) {
    (void)vr; (void)nvr; (void)shifts;
    return tf_not_provided(instance, "fmi3GetShiftDecimal");
}
TF_EXPORT fmi3Status fmi3GetShiftFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3UInt64 counters[],
                                          fmi3UInt64 resolutions[]) {
    (void)vr; (void)nvr; (void)counters; (void)resolutions;
    return tf_not_provided(instance, "fmi3GetShiftFraction");
}
TF_EXPORT fmi3Status fmi3SetIntervalDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3Float64 intervals[]) {
    (void)vr; (void)nvr; (void)intervals;
    return tf_not_provided(instance, "fmi3SetIntervalDecimal");
}
TF_EXPORT fmi3Status fmi3SetIntervalFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3UInt64 counters[],
                                             const fmi3UInt64 resolutions[]) {
    (void)vr; (void)nvr; (void)counters; (void)resolutions;
    return tf_not_provided(instance, "fmi3SetIntervalFraction");
}
TF_EXPORT fmi3Status fmi3SetShiftDecimal(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3Float64 shifts[]) {
    (void)vr; (void)nvr; (void)shifts;
    return tf_not_provided(instance, "fmi3SetShiftDecimal");
}
TF_EXPORT fmi3Status fmi3SetShiftFraction(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3UInt64 counters[],
                                          const fmi3UInt64 resolutions[]) {
    (void)vr; (void)nvr; (void)counters; (void)resolutions;
    return tf_not_provided(instance, "fmi3SetShiftFraction");
}
