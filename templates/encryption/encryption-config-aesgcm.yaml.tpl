# EncryptionConfiguration (apiserver.config.k8s.io/v1) — Secrets encrypted with aesgcm (AES-GCM).
# AES-GCM keys must be rotated before 200 000 writes with one key (upstream guidance): use the rotation procedure
# every 90 days at the latest, sooner on clusters that write Secrets often; prefer secretbox or KMS v2 otherwise.
# The first provider encrypts every write; the ones after it only decrypt. identity stays last so that Secrets
# written before this file took effect can still be read until they are rewritten.
# The key is NOT here: generate it on a control-plane node with
#   {{keyCommand}}
# and put the output in place of the placeholder below (the API server refuses to start while it is there).
# Keep this file readable by root only (chmod 600), identical on every control-plane node, and backed up
# separately from etcd: a lost key makes every Secret unreadable.
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [{{resources}}]
    providers:
      - aesgcm:
          keys:
            - name: {{keyName}}
              secret: {{keyPlaceholder}}
      - identity: {}
