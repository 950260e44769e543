-- Argo CD health check for keyless.dev/WorkloadIdentity (argocd-cm:
-- resource.customizations.health.keyless.dev_WorkloadIdentity; see README.md here).
-- Argo CD runs gopher-lua (Lua 5.1): only the base and string libraries are used.
--
-- Healthy:     Ready=True for the current generation.
-- Progressing: keyless has not reconciled the current generation yet, the object is being deleted,
--              or Ready is not True for a reason that resolves without anyone acting (a restart
--              under way, an eviction a PodDisruptionBudget holds back, AWS throttling or outage).
-- Degraded:    Ready=False for any other reason (invalid spec, guardrails, conflicts, ownership,
--              denied permissions, pods needing a manual restart, ...): someone has to act.
local hs = {}

-- reasons of Ready=False (the reason of the first sub-condition that is not True) that keyless
-- resolves by itself, retrying or waiting for a rollout
local progressing = {
  Reconciling = true,
  RestartInProgress = true,
  EvictionBlocked = true,
  AWSThrottled = true,
  AWSUnavailable = true,
}

local function condition(conditions, ctype)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == ctype then
      return c
    end
  end
  return nil
end

local function with_reason(c, text)
  if c.reason ~= nil and c.reason ~= "" then
    text = c.reason .. ": " .. text
  end
  return text
end

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "being deleted: keyless is removing the IAM role and the service account's annotations"
  return hs
end

local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "waiting for keyless to reconcile the WorkloadIdentity"
  return hs
end

local ready = condition(status.conditions, "Ready")
local observed = status.observedGeneration
if ready ~= nil and ready.observedGeneration ~= nil then
  observed = ready.observedGeneration
end
if ready == nil or observed == nil or observed < generation then
  hs.status = "Progressing"
  hs.message = "waiting for keyless to reconcile generation " .. tostring(generation)
  return hs
end

local message = ready.message or ""
if ready.status == "True" then
  hs.status = "Healthy"
  if status.roleArn ~= nil then
    hs.message = "IAM role " .. status.roleArn .. " wired to service account " .. (status.serviceAccount or "?")
  else
    hs.message = message
  end
  return hs
end

if ready.status ~= "False" or progressing[ready.reason or ""] then
  hs.status = "Progressing"
  hs.message = with_reason(ready, message)
  return hs
end

hs.status = "Degraded"
hs.message = with_reason(ready, message)
return hs
