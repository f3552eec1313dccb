// The client's certificate store: own certificate, trusted and rejected server certificates.
// node-opcua keeps the folders; this module lists, trusts and exports for the edit dialog.
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OPCUAClient, OPCUACertificateManager } from 'node-opcua';

export interface CertificateInfo {
  file: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** SHA-1 thumbprint as OPC UA tools show it. */
  thumbprint: string;
}

function parseCertificate(buffer: Buffer): X509Certificate {
  return new X509Certificate(buffer);
}

function describe(file: string, buffer: Buffer): CertificateInfo {
  const certificate = parseCertificate(buffer);
  return {
    file: path.basename(file),
    subject: certificate.subject.replace(/\n/g, ', '),
    issuer: certificate.issuer.replace(/\n/g, ', '),
    validFrom: new Date(certificate.validFrom).toISOString(),
    validTo: new Date(certificate.validTo).toISOString(),
    thumbprint: certificate.fingerprint.replace(/:/g, '').toLowerCase(),
  };
}

function listFolder(folder: string): CertificateInfo[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => /\.(der|pem|crt)$/i.test(f))
    .sort()
    .flatMap((f) => {
      try {
        return [describe(f, readFileSync(path.join(folder, f)))];
      } catch {
        return []; // a file that is not a certificate is not ours to show
      }
    });
}

export function listRejectedCertificates(pkiDir: string): CertificateInfo[] {
  return listFolder(path.join(pkiDir, 'rejected'));
}

export function listTrustedCertificates(pkiDir: string): CertificateInfo[] {
  return listFolder(path.join(pkiDir, 'trusted', 'certs'));
}

/** Moves a rejected server certificate to trusted; the name must be one listRejectedCertificates returned. */
export async function trustRejectedCertificate(pkiDir: string, file: string, manager: OPCUACertificateManager): Promise<CertificateInfo> {
  const rejected = listRejectedCertificates(pkiDir);
  const entry = rejected.find((c) => c.file === file);
  if (!entry) throw new Error(`certificate "${file}" is not among the rejected certificates`);
  const buffer = readFileSync(path.join(pkiDir, 'rejected', file));
  await manager.trustCertificate(parseCertificate(buffer).raw);
  return entry;
}

/** The client certificate as PEM, created on first use (an OPC UA admin installs it on the PLC). */
export async function clientCertificatePem(pkiDir: string, manager: OPCUACertificateManager): Promise<string> {
  const file = path.join(pkiDir, 'own', 'certs', 'client_certificate.pem');
  if (!existsSync(file)) {
    const client = OPCUAClient.create({ applicationName: 'Twinflow', clientCertificateManager: manager }) as unknown as { createDefaultCertificate(): Promise<void> };
    await client.createDefaultCertificate();
  }
  return readFileSync(file, 'utf8');
}
