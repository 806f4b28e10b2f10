# EncryptionConfiguration (apiserver.config.k8s.io/v1) — Secrets envelope-encrypted through a KMS v2 plugin.
# The key encryption key stays in the external KMS; the plugin must run on every control-plane node and listen on
# the endpoint below before the API server starts. identity stays last so that Secrets written before this file
# took effect can still be read until they are rewritten.
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [{{resources}}]
    providers:
      - kms:
          apiVersion: v2
          name: {{kmsName}}
          endpoint: {{kmsEndpoint}}
          timeout: 3s
      - identity: {}
