// snapcopy: Flex Consumption function app (Go custom handler), Service Bus
// entities, monitoring, and least-privilege RBAC for one user-assigned
// identity. Deploy into an existing resource group:
//   az deployment group create -g <rg> -f infra/main.bicep -p @infra/main.parameters.json
targetScope = 'resourceGroup'

@description('Short name used as prefix of every resource name.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'snapcopy'

@description('Region of the app, Service Bus and monitoring.')
param location string = resourceGroup().location

@description('Service Bus tier. Standard is enough for this workload (messages are a few KiB); Premium adds isolation, VNet and a fixed monthly price.')
@allowed([
  'Standard'
  'Premium'
])
param serviceBusSku string = 'Standard'

@description('Upper bound of Flex instances. Each instance runs up to maxConcurrentCalls (host.json) invocations; copying happens inside Storage, so few instances suffice.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance. The handler is a small static binary; 512 MB is the cheapest size.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 512

// A container the handler may read snapshots from. subscriptionId and
// resourceGroup default to this deployment's.
type sourceContainer = {
  @description('Source storage account name.')
  accountName: string
  @description('Container holding the source page blobs.')
  containerName: string
  @description('Resource group of the source account.')
  resourceGroup: string?
  @description('Subscription of the source account.')
  subscriptionId: string?
}

@description('Source containers (allow-listed and readable by the app).')
@minLength(1)
param sources sourceContainer[]

@description('Destination storage account name.')
param destinationAccountName string

@description('Resource group of the destination account (same subscription).')
param destinationResourceGroup string = resourceGroup().name

@description('Destination container: the default route and the only allowed destination.')
param destinationContainerName string

@description('Create the destination account (false: it exists already).')
param createDestinationAccount bool = false

@description('Create the destination container (false: it exists already and is only referenced, never re-declared). A created account always gets its container.')
param createDestinationContainer bool = false

@description('Let the app delete source snapshots it has proven copied (SNAPCOPY_PRUNE_SOURCE). false: the app gets no delete right on any source.')
param pruneSource bool = false

@description('Region of a created destination account.')
param destinationLocation string = location

@description('Redundancy of a created destination account.')
param destinationSkuName string = 'Standard_LRS'

@description('Principals (backup scripts, schedulers) allowed to send SnapshotCreated. Object ids.')
param producerPrincipalIds string[] = []

@description('Principals allowed to receive from the copy-events subscription "all". Object ids.')
param consumerPrincipalIds string[] = []

// App-setting values. Defaults equal config.Defaults() in the Go code; the
// consistency test fails when they drift apart.
@description('SNAPCOPY_EVENT_TYPE_PREFIX: prefix of outcome event types.')
param eventTypePrefix string = 'Snapcopy.IncrementalCopy'

@description('SNAPCOPY_TRIGGER_EVENT_TYPES: comma-separated CloudEvents types accepted as SnapshotCreated, exact names or prefix* (default: any type whose last words are "snapshot created").')
param triggerEventTypes string = ''

@description('SNAPCOPY_ALLOW_MESSAGE_SAS: accept a source SAS carried by the message (default: only SAS minted by the app).')
param allowMessageSas bool = false

@description('SNAPCOPY_COPY_DEADLINE: how long one copy may stay pending (Go duration).')
param copyDeadline string = '24h'

@description('SNAPCOPY_ABORT_ON_TIMEOUT: abort a copy that passed its deadline.')
param abortOnTimeout bool = false

@description('SNAPCOPY_POLL_MIN_DELAY: shortest time between two polls.')
param pollMinDelay string = '5s'

@description('SNAPCOPY_POLL_MAX_DELAY: longest time between two polls. Keep it below the queues\' duplicate-detection window (1h).')
param pollMaxDelay string = '10m'

@description('SNAPCOPY_SAS_LIFETIME: lifetime of a minted source SAS (max 168h).')
param sasLifetime string = '48h'

@description('SNAPCOPY_MAX_MESSAGE_BYTES: larger trigger bodies are rejected.')
param maxMessageBytes int = 262144

@description('SNAPCOPY_LOG_LEVEL: debug, info, warn or error.')
@allowed([
  'debug'
  'info'
  'warn'
  'error'
])
param logLevel string = 'info'

@description('SNAPCOPY_RETAIN_LAST: keep the last n restore points of each chain (0: rule not used; all four 0 keeps everything).')
@minValue(0)
@maxValue(10000)
param retainLast int = 0

@description('SNAPCOPY_RETAIN_DAILY: keep the newest restore point of each of the last n days (UTC, by source snapshot time) that have one.')
@minValue(0)
@maxValue(10000)
param retainDaily int = 0

@description('SNAPCOPY_RETAIN_WEEKLY: keep the newest restore point of each of the last n ISO weeks that have one.')
@minValue(0)
@maxValue(10000)
param retainWeekly int = 0

@description('SNAPCOPY_RETAIN_MONTHLY: keep the newest restore point of each of the last n months that have one.')
@minValue(0)
@maxValue(10000)
param retainMonthly int = 0

// Entity names. The Go defaults (config.Defaults) use the same names and
// the consistency test checks them.
var triggerQueueName = 'snapshot-created'
var pollQueueName = 'copy-poll'
var eventsTopicName = 'copy-events'
var eventsSubscriptionName = 'all'
var retentionSubscriptionName = 'retention'

var token = toLower(uniqueString(subscription().id, resourceGroup().id, namePrefix))
var functionAppName = '${namePrefix}-${token}'
var hostStorageName = take('st${toLower(replace(namePrefix, '-', ''))}${token}', 24)
var deploymentContainerName = 'app-package'

// Nested deployments live in the source and destination groups, where
// another snapcopy deployment (another app, or this one re-run under a new
// name) may run at the same time: a suffix per deployment keeps their
// names apart.
var deploymentSuffix = uniqueString(deployment().name)

// Built-in role ids (tenant-independent).
var roles = {
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---------------------------------------------------------------- identity

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${functionAppName}'
  location: location
}

// -------------------------------------------------------------- monitoring

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${functionAppName}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${functionAppName}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Entra-only ingestion: the connection string alone cannot write.
    DisableLocalAuth: true
  }
}

// Lets the app's identity send telemetry (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
resource appInsightsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ------------------------------------------------------------ host storage

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostStorageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // Identity-based connections only (AzureWebJobsStorage__credential).
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

// Flex pulls the app package (dist/snapcopy.zip) from here.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: hostBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// The host keeps leases, keys and the deployment package in blobs.
resource hostStorageOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identity.id, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The host writes its diagnostic events to a table in this account and
// gets 403s without this role. No queue role: Service Bus triggers keep
// nothing in host queues.
resource hostStorageTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, identity.id, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ------------------------------------------------------------- Service Bus

resource serviceBus 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: '${namePrefix}-${token}'
  location: location
  // Premium is sold in messaging units; one is plenty here.
  sku: serviceBusSku == 'Premium' ? {
    name: 'Premium'
    tier: 'Premium'
    capacity: 1
  } : {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // No SAS keys: every client authenticates with Entra ID.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

// Why these entity settings:
// - Duplicate detection (PT1H) makes every send safe to repeat: ids are
//   deterministic (<job>/poll/<n>/<tag>, <job>/defer/<n>/<tag>, <job>/<outcome>).
//   Repeats come from trigger redeliveries and retried sends, within
//   minutes; a poll or deferral is scheduled at most SNAPCOPY_POLL_MAX_DELAY
//   (10m) ahead. One hour covers both with margin, and since each poll
//   iteration has its own id, a long window never swallows the next poll.
// - lockDuration PT5M = host.json functionTimeout (the Service Bus maximum):
//   an invocation can never outlive its lock, even if the host's renewal
//   (maxAutoLockRenewalDuration 5m) fails. The cost: a message held by a
//   crashed instance returns after up to 5 minutes, small next to copies
//   that take minutes to hours.
// - maxDeliveryCount counts immediate redeliveries of non-2xx answers,
//   which the handler gives only when it could write nothing durable
//   (Service Bus unreachable); each failed attempt already spent its SDK
//   retries, so 10 attempts ride out a few minutes of outage.
// - TTL with dead-lettering on expiry: a message the app could not handle
//   in time (app stopped for days) is parked in the DLQ, never dropped.

resource triggerQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: triggerQueueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    lockDuration: 'PT5M'
    maxDeliveryCount: 10
    // Two weeks: longer than any outage worth riding out; an expired
    // SnapshotCreated is a skipped restore point, so it goes to the DLQ.
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    // Sessions would serialize per destination, but a failing head message
    // blocks its session; the handler orders copies itself (design §3).
    requiresSession: false
  }
}

resource pollQueue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: serviceBus
  name: pollQueueName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    lockDuration: 'PT5M'
    // Higher than the trigger's: a dead-lettered poll silently stops a
    // job's reporting (the copy itself goes on in Storage).
    maxDeliveryCount: 20
    // Longer than SNAPCOPY_COPY_DEADLINE (24h) plus an outage; an expired
    // poll is a job nobody reports on, so it goes to the DLQ where
    // re-sending its SnapshotCreated resumes it.
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
  }
}

resource eventsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: serviceBus
  name: eventsTopicName
  properties: {
    requiresDuplicateDetection: true
    // A day: besides crash re-publishes (minutes), a producer that re-sends
    // yesterday's SnapshotCreated makes the handler publish Completed again
    // with the same id; the window drops that repeat too.
    duplicateDetectionHistoryTimeWindow: 'P1D'
    // Ceiling for every subscription's TTL.
    defaultMessageTimeToLive: 'P14D'
  }
}

// A starting point for consumers and a place to inspect events. Real
// consumers should get their own subscription (with their own filter and
// DLQ policy).
resource eventsSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: eventsTopic
  name: eventsSubscriptionName
  properties: {
    // Consumers process an event in seconds; a short lock redelivers fast.
    lockDuration: 'PT1M'
    maxDeliveryCount: 10
    // Nobody may read "all": expired events are dropped, not dead-lettered,
    // so an unread subscription cannot fill the topic's quota and block
    // the handler's publishes.
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: false
    deadLetteringOnFilterEvaluationExceptions: true
  }
}

// The Retention function's trigger: Completed events only, so pruning
// never runs for (or is delayed by) other outcomes.
resource retentionSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: eventsTopic
  name: retentionSubscriptionName
  properties: {
    // = host.json functionTimeout, as on the queues: an invocation never
    // outlives its lock.
    lockDuration: 'PT5M'
    maxDeliveryCount: 10
    // Every Completed re-evaluates the whole chain, so an event that expired
    // unread loses nothing: dropped, not dead-lettered, so a stopped app
    // cannot fill the topic's quota and block the handler's publishes.
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: false
    deadLetteringOnFilterEvaluationExceptions: true
  }
}

// ARM creates every subscription with a rule named $Default (TrueFilter:
// everything) and has no property to create it without; reports differ on
// whether adding another rule removes it. Declaring our filter under the
// name $Default replaces that rule in either case, leaving it the only one.
// Until this PUT lands (seconds, on the first deployment) the subscription
// may admit any event, so the Retention function ignores non-Completed ones.
resource retentionCompletedOnly 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = {
  parent: retentionSubscription
  name: '$Default'
  properties: {
    filterType: 'CorrelationFilter'
    correlationFilter: {
      // The message's Subject (label on the wire) is the event type.
      label: '${eventTypePrefix}.Completed'
    }
  }
}

// The two trigger queues: Data Owner, on each queue only. The trigger
// binding receives and the handler sends there (polls, deferred triggers),
// and Flex Consumption's target-based scaler reads each queue's runtime
// properties (message count), which needs Manage: with Receiver alone it
// falls back to peeking one message and scales blind. Owner is the only
// built-in role with Manage; scoped to a queue it manages that queue and
// nothing else (not the namespace, the topic or other queues).
resource ownTriggerQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(triggerQueue.id, identity.id, roles.serviceBusDataOwner)
  scope: triggerQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource ownPollQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(pollQueue.id, identity.id, roles.serviceBusDataOwner)
  scope: pollQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The Retention function's trigger receives from its subscription.
resource receiveRetention 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(retentionSubscription.id, identity.id, roles.serviceBusDataReceiver)
  scope: retentionSubscription
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The handler publishes outcome events (and Retention its Pruned events).
resource sendEvents 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(eventsTopic.id, identity.id, roles.serviceBusDataSender)
  scope: eventsTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Producers may only send to the trigger queue.
resource producersSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for producer in producerPrincipalIds: {
    name: guid(triggerQueue.id, producer, roles.serviceBusDataSender)
    scope: triggerQueue
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataSender)
      principalId: producer
    }
  }
]

// Consumers may only receive from the subscription, the narrowest scope a
// receiver works at.
resource consumersReceive 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for consumer in consumerPrincipalIds: {
    name: guid(eventsSubscription.id, consumer, roles.serviceBusDataReceiver)
    scope: eventsSubscription
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.serviceBusDataReceiver)
      principalId: consumer
    }
  }
]

// ----------------------------------------------------------------- storage

// Each source's account and container as lower-case keys: two sources in
// one account (or the same container listed twice) would otherwise create
// the same role assignment twice, in parallel, and the second would fail.
// The first source naming an account or container assigns its roles.
var sourceAccountKeys = [
  for source in sources: toLower('${source.?subscriptionId ?? subscription().subscriptionId}/${source.?resourceGroup ?? resourceGroup().name}/${source.accountName}')
]
var sourceContainerKeys = [for (source, i) in sources: '${sourceAccountKeys[i]}/${toLower(source.containerName)}']

module sourceAccess 'modules/source-access.bicep' = [
  for (source, i) in sources: {
    name: 'snapcopy-source-${i}-${deploymentSuffix}'
    scope: resourceGroup(source.?subscriptionId ?? subscription().subscriptionId, source.?resourceGroup ?? resourceGroup().name)
    params: {
      accountName: source.accountName
      containerName: source.containerName
      principalId: identity.properties.principalId
      assignAccountRole: indexOf(sourceAccountKeys, sourceAccountKeys[i]) == i
      assignContainerRoles: indexOf(sourceContainerKeys, sourceContainerKeys[i]) == i
      pruneSource: pruneSource
    }
  }
]

module destinationAccess 'modules/destination-access.bicep' = {
  name: 'snapcopy-destination-${deploymentSuffix}'
  scope: resourceGroup(destinationResourceGroup)
  params: {
    accountName: destinationAccountName
    containerName: destinationContainerName
    createAccount: createDestinationAccount
    createContainer: createDestinationContainer || createDestinationAccount
    location: destinationLocation
    skuName: destinationSkuName
    principalId: identity.properties.principalId
  }
}

// Standard blob endpoints (<account>.blob.<storage suffix>), from the parameters.
var sourceContainerUrls = [
  for source in sources: 'https://${source.accountName}.blob.${environment().suffixes.storage}/${source.containerName}'
]

// ------------------------------------------------------------ function app

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${functionAppName}'
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  dependsOn: [
    deploymentContainer
  ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex declares the runtime here; FUNCTIONS_WORKER_RUNTIME and
      // FUNCTIONS_EXTENSION_VERSION are not allowed as app settings.
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
  }
}

// 'https://<ns>.servicebus.windows.net:443/' -> '<ns>.servicebus.windows.net'
var serviceBusFqdn = split(split(split(serviceBus.properties.serviceBusEndpoint, '//')[1], ':')[0], '/')[0]

// Every name the Go code reads is declared in handler/internal/config/settings.go;
// the consistency test checks this block against it.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: hostStorage.name
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'

    // Trigger bindings (read by the host) and the handler's own client.
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusFqdn
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identity.properties.clientId
    AZURE_CLIENT_ID: identity.properties.clientId

    SNAPCOPY_TRIGGER_QUEUE: triggerQueueName
    SNAPCOPY_POLL_QUEUE: pollQueueName
    SNAPCOPY_EVENTS_TOPIC: eventsTopicName
    SNAPCOPY_EVENT_SOURCE: '/snapcopy/${functionAppName}'
    SNAPCOPY_EVENT_TYPE_PREFIX: eventTypePrefix
    SNAPCOPY_RETENTION_SUBSCRIPTION: retentionSubscriptionName

    SNAPCOPY_DESTINATION_CONTAINER_URL: destinationAccess.outputs.containerUrl
    SNAPCOPY_ALLOWED_SOURCES: join(sourceContainerUrls, ',')
    SNAPCOPY_ALLOWED_DESTINATIONS: destinationAccess.outputs.containerUrl
    SNAPCOPY_ALLOW_MESSAGE_SAS: allowMessageSas ? 'true' : 'false'
    SNAPCOPY_TRIGGER_EVENT_TYPES: triggerEventTypes
    // The handler sends its token only to <account>.blob.<this suffix>.
    SNAPCOPY_STORAGE_ENDPOINT_SUFFIX: environment().suffixes.storage

    SNAPCOPY_COPY_DEADLINE: copyDeadline
    SNAPCOPY_ABORT_ON_TIMEOUT: abortOnTimeout ? 'true' : 'false'
    SNAPCOPY_POLL_MIN_DELAY: pollMinDelay
    SNAPCOPY_POLL_MAX_DELAY: pollMaxDelay
    SNAPCOPY_SAS_LIFETIME: sasLifetime
    SNAPCOPY_MAX_MESSAGE_BYTES: string(maxMessageBytes)
    SNAPCOPY_LOG_LEVEL: logLevel

    SNAPCOPY_RETAIN_LAST: string(retainLast)
    SNAPCOPY_RETAIN_DAILY: string(retainDaily)
    SNAPCOPY_RETAIN_WEEKLY: string(retainWeekly)
    SNAPCOPY_RETAIN_MONTHLY: string(retainMonthly)
    SNAPCOPY_PRUNE_SOURCE: pruneSource ? 'true' : 'false'
  }
  // The app may start as soon as settings exist; let its roles exist first
  // (they still take minutes to propagate, see README troubleshooting).
  dependsOn: [
    hostStorageOwner
    hostStorageTables
    appInsightsPublisher
    ownTriggerQueue
    ownPollQueue
    receiveRetention
    sendEvents
    sourceAccess
  ]
}

output FUNCTION_APP_NAME string = functionApp.name
output SERVICE_BUS_NAMESPACE_FQDN string = serviceBusFqdn
output TRIGGER_QUEUE string = triggerQueue.name
output POLL_QUEUE string = pollQueue.name
output EVENTS_TOPIC string = eventsTopic.name
output EVENTS_SUBSCRIPTION string = eventsSubscription.name
output RETENTION_SUBSCRIPTION string = retentionSubscription.name
output IDENTITY_CLIENT_ID string = identity.properties.clientId
output IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output DESTINATION_CONTAINER_URL string = destinationAccess.outputs.containerUrl
output HOST_STORAGE_ACCOUNT string = hostStorage.name
