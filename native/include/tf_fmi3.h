/*
 * Twinflow's own declarations of the FMI 3.0 C API (Co-Simulation and the common functions),
 * written from the FMI 3.0.x specification (sections 2.2 and 4). fmi3Boolean is C99 bool (one
 * byte), value references are uint32_t, and the logger is NOT variadic. The ABI must match the
 * standard exactly.
 */
#ifndef TF_FMI3_H
#define TF_FMI3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void       *fmi3Instance;
typedef void       *fmi3InstanceEnvironment;
typedef void       *fmi3FMUState;
typedef uint32_t    fmi3ValueReference;
typedef float       fmi3Float32;
typedef double      fmi3Float64;
typedef int8_t      fmi3Int8;
typedef uint8_t     fmi3UInt8;
typedef int16_t     fmi3Int16;
typedef uint16_t    fmi3UInt16;
typedef int32_t     fmi3Int32;
typedef uint32_t    fmi3UInt32;
typedef int64_t     fmi3Int64;
typedef uint64_t    fmi3UInt64;
typedef bool        fmi3Boolean;
typedef char        fmi3Char;
typedef const fmi3Char *fmi3String;
typedef uint8_t     fmi3Byte;
typedef const fmi3Byte *fmi3Binary;
typedef bool        fmi3Clock;

#define fmi3True  true
#define fmi3False false

typedef enum { fmi3OK = 0, fmi3Warning = 1, fmi3Discard = 2, fmi3Error = 3, fmi3Fatal = 4 } fmi3Status;
typedef enum { fmi3Independent = 0, fmi3Constant, fmi3Fixed, fmi3Tunable, fmi3Discrete, fmi3Dependent } fmi3DependencyKind;
typedef enum { fmi3IntervalNotYetKnown = 0, fmi3IntervalUnchanged, fmi3IntervalChanged } fmi3IntervalQualifier;

typedef void (*fmi3LogMessageCallback)(fmi3InstanceEnvironment env, fmi3Status status,
                                       fmi3String category, fmi3String message);
typedef void (*fmi3ClockUpdateCallback)(fmi3InstanceEnvironment env);
typedef void (*fmi3IntermediateUpdateCallback)(fmi3InstanceEnvironment env, fmi3Float64 intermediateUpdateTime,
                                               fmi3Boolean intermediateVariableSetRequested,
                                               fmi3Boolean intermediateVariableGetAllowed,
                                               fmi3Boolean intermediateStepFinished, fmi3Boolean canReturnEarly,
                                               fmi3Boolean *earlyReturnRequested, fmi3Float64 *earlyReturnTime);
typedef void (*fmi3LockPreemptionCallback)(void);
typedef void (*fmi3UnlockPreemptionCallback)(void);

/* Function types (the subset an importer of Co-Simulation FMUs uses). */
typedef const char  *fmi3GetVersionTYPE(void);
typedef fmi3Status   fmi3SetDebugLoggingTYPE(fmi3Instance instance, fmi3Boolean loggingOn, size_t nCategories, const fmi3String categories[]);
typedef fmi3Instance fmi3InstantiateCoSimulationTYPE(fmi3String instanceName, fmi3String instantiationToken,
                                                     fmi3String resourcePath, fmi3Boolean visible, fmi3Boolean loggingOn,
                                                     fmi3Boolean eventModeUsed, fmi3Boolean earlyReturnAllowed,
                                                     const fmi3ValueReference requiredIntermediateVariables[],
                                                     size_t nRequiredIntermediateVariables,
                                                     fmi3InstanceEnvironment instanceEnvironment,
                                                     fmi3LogMessageCallback logMessage,
                                                     fmi3IntermediateUpdateCallback intermediateUpdate);
typedef void         fmi3FreeInstanceTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3EnterInitializationModeTYPE(fmi3Instance instance, fmi3Boolean toleranceDefined, fmi3Float64 tolerance,
                                                     fmi3Float64 startTime, fmi3Boolean stopTimeDefined, fmi3Float64 stopTime);
typedef fmi3Status   fmi3ExitInitializationModeTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3EnterEventModeTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3TerminateTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3ResetTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3GetFloat64TYPE(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, fmi3Float64 values[], size_t nValues);
typedef fmi3Status   fmi3SetFloat64TYPE(fmi3Instance instance, const fmi3ValueReference vr[], size_t nvr, const fmi3Float64 values[], size_t nValues);
typedef fmi3Status   fmi3GetFMUStateTYPE(fmi3Instance instance, fmi3FMUState *state);
typedef fmi3Status   fmi3SetFMUStateTYPE(fmi3Instance instance, fmi3FMUState state);
typedef fmi3Status   fmi3FreeFMUStateTYPE(fmi3Instance instance, fmi3FMUState *state);
typedef fmi3Status   fmi3UpdateDiscreteStatesTYPE(fmi3Instance instance, fmi3Boolean *discreteStatesNeedUpdate,
                                                  fmi3Boolean *terminateSimulation, fmi3Boolean *nominalsOfContinuousStatesChanged,
                                                  fmi3Boolean *valuesOfContinuousStatesChanged, fmi3Boolean *nextEventTimeDefined,
                                                  fmi3Float64 *nextEventTime);
typedef fmi3Status   fmi3EnterStepModeTYPE(fmi3Instance instance);
typedef fmi3Status   fmi3DoStepTYPE(fmi3Instance instance, fmi3Float64 currentCommunicationPoint,
                                    fmi3Float64 communicationStepSize, fmi3Boolean noSetFMUStatePriorToCurrentPoint,
                                    fmi3Boolean *eventHandlingNeeded, fmi3Boolean *terminateSimulation,
                                    fmi3Boolean *earlyReturn, fmi3Float64 *lastSuccessfulTime);

#ifdef __cplusplus
}
#endif

#endif /* TF_FMI3_H */
