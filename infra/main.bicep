// The Azure infrastructure `azd up` provisions for the shop, in the shape `azd infra gen` writes for an Aspire
// AppHost (this file, resources.bicep, main.parameters.json, and AppHost/infra/<service>.tmpl.yaml for each
// container app), kept in the repository because the container apps' scale rules cannot be said in the AppHost's
// manifest. Checked offline by Tests/Deployment/AzureInfrastructureTests with the Bicep CLI.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment, used in resource names; the resource group is rg-<name>.')
param environmentName string

@minLength(1)
@description('The location of every resource.')
param location string

@description('Id of the user or app that deploys, given the Contributor role on the Container Apps environment.')
param principalId string = ''

// The AppHost's parameters. azd asks for each, or generates it, and keeps it in the environment; the container app
// templates read them (securedParameter), so the Bicep below never uses them.
@secure()
@description('The catalog database on the primary (Host=...;Database=catalog;...).')
#disable-next-line no-unused-params
param catalogdb string

@secure()
@description('The catalog database on the read replicas, then the primary (Target Session Attributes=prefer-standby;Load Balance Hosts=true).')
#disable-next-line no-unused-params
param catalogdb_replica string

@secure()
@description('Order shard 1 (database orders).')
#disable-next-line no-unused-params
param ordersdb_shard1 string

@secure()
@description('Order shard 2 (database orders).')
#disable-next-line no-unused-params
param ordersdb_shard2 string

@secure()
@description('Redis (host:6380,password=...,ssl=true).')
#disable-next-line no-unused-params
param cache string

@secure()
@description('The RabbitMQ broker (amqps://user:password@host/vhost); also what the worker\'s scale rule reads the queue length with.')
#disable-next-line no-unused-params
param messaging string

@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
@secure()
#disable-next-line no-unused-params
param catalog_admin_signing_key string

@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
@secure()
#disable-next-line no-unused-params
param buyer_token_signing_key string

@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
@secure()
#disable-next-line no-unused-params
param site_key_encryption_key string

var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2022-09-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'resources.bicep' = {
  scope: rg
  name: 'resources'
  params: {
    location: location
    tags: tags
    principalId: principalId
  }
}

output MANAGED_IDENTITY_CLIENT_ID string = resources.outputs.MANAGED_IDENTITY_CLIENT_ID
output MANAGED_IDENTITY_NAME string = resources.outputs.MANAGED_IDENTITY_NAME
output AZURE_LOG_ANALYTICS_WORKSPACE_NAME string = resources.outputs.AZURE_LOG_ANALYTICS_WORKSPACE_NAME
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = resources.outputs.AZURE_CONTAINER_REGISTRY_ENDPOINT
output AZURE_CONTAINER_REGISTRY_MANAGED_IDENTITY_ID string = resources.outputs.AZURE_CONTAINER_REGISTRY_MANAGED_IDENTITY_ID
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = resources.outputs.AZURE_CONTAINER_APPS_ENVIRONMENT_NAME
output AZURE_CONTAINER_APPS_ENVIRONMENT_ID string = resources.outputs.AZURE_CONTAINER_APPS_ENVIRONMENT_ID
output AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN string = resources.outputs.AZURE_CONTAINER_APPS_ENVIRONMENT_DEFAULT_DOMAIN
