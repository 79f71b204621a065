/**
 * The relup library. The CLI (src/cli) is a thin face over these functions; code that runs inside a
 * release uses `relup/runtime` instead.
 */
export { ExitCode, UserError, BugError } from "./errors.ts";

// Releases: building, reading safely, formats.
export { type BuildOptions, type BuildResult } from "./release/build-release.ts";
export { buildRelease } from "./relup/build-with-plans.ts";
export { readRelease, type LoadedRelease, type ReadReleaseOptions } from "./release/read-release.ts";
export { DEFAULT_LIMITS, type ReadLimits } from "./release/limits.ts";
export { ReleaseError, formatReleaseIssue, type ReleaseIssue } from "./release/issues.ts";
export { ReleaseFile, appDir, releaseDirName } from "./release/release-file.ts";
export { AppFile, ModuleMeta, Behaviour } from "./release/app-file.ts";
export { ProjectConfig } from "./release/project-config.ts";

// Plans: appups, relups, generation, views.
export { AppupFile, AppupInstruction } from "./appup/instruction.ts";
export { RelupFile, Instruction } from "./relup/instruction.ts";
export { generatePlan, type Plan, type PlanResult } from "./relup/generate-plan.ts";
export { planReleases, driftOf, planHasChanges } from "./relup/plan-releases.ts";
export { loadReleaseModel } from "./relup/load-release-model.ts";
export type { ReleaseModel } from "./relup/release-model.ts";
export { checkScript } from "./relup/check-script.ts";
export { PlanError, formatPlanIssue, formatPlanWarning, type PlanIssue, type PlanWarning } from "./relup/issues.ts";
export { readRelupFile, relupFileText } from "./relup/relup-file-io.ts";

// What the runtime (the node, an install, the control client) finds, as data.
export { RuntimeError } from "./runtime/issues/runtime-error.ts";
export { formatRuntimeIssue } from "./runtime/issues/format-runtime-issue.ts";
export { RuntimeIssue, type RuntimeIssueKind } from "./runtime/issues/runtime-issue.ts";
export { renderPlanText } from "./relup/render/render-text.ts";
export { renderPlanMarkdown } from "./relup/render/render-markdown.ts";

// What each command does, as one call: projects, verification, a node's lifecycle and its upgrades.
export { scaffoldProject, type ScaffoldOptions, type Scaffolded } from "./release/scaffold-project.ts";
export { inspectRelease, type InspectedRelease } from "./relup/inspect-release.ts";
export { generateForReview } from "./relup/generate-for-review.ts";
export { verifyReleases, type VerifyOptions } from "./verify/verify-releases.ts";
export type { VerifyReport } from "./verify/report.ts";
export { startRelease, type StartOptions, type Started } from "./runtime/start-release.ts";
export { stopNode, type StopResult } from "./runtime/stop-node.ts";
export { listReleases, type ListedRelease } from "./runtime/list-releases.ts";
export { nodeStatus, nodeProcesses, unpackRelease, makePermanent, removeRelease } from "./runtime/release-client.ts";
export { applyRelease, type ApplyOptions, type ApplyResult } from "./apply/apply-release.ts";
export { rollbackRelease, type RollbackOptions, type RollbackOutcome } from "./apply/rollback-release.ts";
export { Launcher, type LauncherOptions } from "./runtime/launcher.ts";

// Fleets: signed releases, the release store, membership on etcd (docs/fleet.md).
export { writeKeyPair, readPrivateKey, readPublicKey, readTrustedKeys, keyId, type TrustedKeys, type WrittenKeyPair } from "./fleet/signing-keys.ts";
export { signRelease, type SignResult } from "./fleet/sign-release.ts";
export { verifySignature, type SignatureInput, type SignatureCheck } from "./fleet/verify-signature.ts";
export { SignatureFile, signatureFileOf } from "./fleet/signature-file.ts";
export { publishRelease, type PublishOptions, type PublishResult } from "./fleet/publish-release.ts";
export { PublishedRecord, pinOf, type ReleasePin } from "./fleet/published-record.ts";
export { fetchRelease, type FetchOptions, type FetchedRelease } from "./fleet/fetch-release.ts";
export { parseStoreUrl, releaseUrls } from "./fleet/store-url.ts";
export { NodeRecord, nodeKey, nodesPrefix } from "./fleet/node-record.ts";
export { listGroup, type GroupListing } from "./fleet/list-group.ts";
export { FleetError, formatFleetIssue, fleetExitCode, type FleetIssue } from "./fleet/issues.ts";

// JSON Schemas of every file format.
export { FILE_SCHEMAS, jsonSchemaText } from "./schemas.ts";
