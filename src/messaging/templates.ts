import { interpolate } from "../shared/i18n/interpolate.ts";
import type { Locale } from "../shared/i18n/locales.ts";
import type { Tenant } from "../tenants/tenant.ts";
import { escapeHtml } from "../shared/escape-html.ts";

/**
 * Message texts, per template and language. E-mails have `email.<template>.subject` and
 * `.text` (the HTML part is made from the text); SMS have `sms.<template>`. Tenants can override
 * any key per language in their policy (`messages`). Placeholders are `{name}`, or
 * `{name|one|other}` for words that follow a number (shared/i18n/interpolate.ts); `{tenant}` is
 * always the tenant's display name.
 */
const en = {
  "sms.otp": "{tenant}: your verification code is {code}. It expires in {minutes|# minute|# minutes}. Never share it.",
  "email.otp.subject": "{tenant}: your verification code",
  "email.otp.text":
    "Your verification code is {code}\n\nIt expires in {minutes|# minute|# minutes}. Never share it: {tenant} will never ask you for it by phone or e-mail.\n\nIf you did not ask for a code, ignore this message.",
  "email.password_expiry.subject": "{tenant}: your password expires in {days|# day|# days}",
  "email.password_expiry.text":
    "Hello {name},\n\nthe password of your {tenant} account expires on {date}. Sign in and choose a new one before then, or you will have to change it at your next sign-in.\n\nIf you have questions, do not reply to this message: contact {tenant} support.",
  "email.email_confirmation.subject": "{tenant}: confirm your e-mail address",
  "email.email_confirmation.text":
    "To confirm this address for your {tenant} identity request, open this link:\n{confirm_url}\n\nor enter the code {code} on the request page. Both are valid for {minutes|# minute|# minutes}.\n\nIf you did not ask for a digital identity, ignore this message.",
  "email.enrolment_submitted.subject": "{tenant}: your identity request {request} has been received",
  "email.enrolment_submitted.text":
    "Hello {name},\n\nwe have received your request for a digital identity (number {request}).\n\nWhat happens next: {next_steps}\n\nYou can follow your request at {status_url}",
  "email.login_notice.subject": "{tenant}: your credentials were used to sign in",
  "email.login_notice.text":
    "Your {tenant} credentials were used to sign in on {date} from {ip} (level {level}).\n\nIf this was not you, change your password at once and contact {tenant} support.\n\nYou receive this message because you asked for it; you can turn it off in your account.",
  "email.password_reset.subject": "{tenant}: your password has been changed",
  "email.password_reset.text":
    "The password of your {tenant} account was reset on {date}, and every session was signed out.\n\nIf this was not you, contact {tenant} support at once.",
  "email.recovery_link.subject": "{tenant}: reset your password",
  "email.recovery_link.text":
    "To choose a new password for your {tenant} account, open this link within {minutes|# minute|# minutes}:\n{recovery_url}\n\nIf you did not ask for it, ignore this message: your password stays as it is.",
  "email.contact_changed.subject": "{tenant}: your contact details were changed",
  "email.contact_changed.text":
    "The {what} of your {tenant} account was changed on {date}.\n\nIf this was not you, contact {tenant} support at once.",
  "sms.contact_changed": "{tenant}: the mobile number of your account was changed on {date}. If this was not you, contact support.",
  "email.account_state.subject": "{tenant}: your identity has been {state}",
  "email.account_state.text": "Your {tenant} digital identity was {state} on {date}.\n\nIf this was not you, contact {tenant} support at once.",
  "email.inactivity_warning.subject": "{tenant}: your identity will be revoked in {days|# day|# days}",
  "email.inactivity_warning.text":
    "Your {tenant} digital identity has not been used for a long time. Unless you sign in before {date}, it will be revoked.\n\nTo keep it, simply sign in once.",
  "email.enrolment_reminder.subject": "{tenant}: your identity request is waiting for you",
  "email.enrolment_reminder.text":
    "Your {tenant} identity request is not complete. It will be deleted on {date} unless you complete it.\n\nContinue where you left off, signing in with your e-mail address and password: {resume_url}",
  "email.registration_confirmation.subject": "{tenant}: confirm your e-mail address",
  "email.registration_confirmation.text":
    "To confirm this address for your new {tenant} account, open this link:\n{confirm_url}\n\nor enter the code {code} on the registration page. Both are valid for {minutes|# minute|# minutes}.\n\nIf you did not register, ignore this message.",
  "email.registration_done.subject": "{tenant}: your codice persona is {codice_persona}",
  "email.registration_done.text":
    "Hello {name},\n\nyour {tenant} account is ready. Your codice persona is {codice_persona}: sign in with it and the password you chose, at {login_url}\n\nTwo-factor authentication is mandatory: at your first sign-in you will be asked to activate it.",
  "email.identity_activated.subject": "{tenant}: your digital identity is active",
  "email.identity_activated.text":
    "Hello {name},\n\nyour identity has been verified ({method}) and your digital identity is active. Your SPID code is {spid_code}.\n\nSign in with your e-mail address and password wherever you see the SPID button, and manage your identity at {account_url}",
  "email.proofing_rejected.subject": "{tenant}: we could not verify your identity",
  "email.proofing_rejected.text":
    "Hello {name},\n\nwe could not verify your identity for request {request} ({method}): {reason}\n\nWhat you can do: {next_steps}\n\nYour request stays open at {account_url}",
  "email.membership_requested.subject":
    "{tenant}: your request for a professional identity at {organization}",
  "email.membership_requested.text":
    "Hello {name},\n\nwe have received your request for a professional identity in the cloud with a signing certificate of {organization}.\n\nWhat happens next: a representative of {organization} authorises (or refuses) the request; either way we write to you. Once it is authorised you will receive the link to activate your identity in six short steps.",
  "email.membership_pending.subject":
    "{tenant}: {applicant} asks for a certificate of {organization}",
  "email.membership_pending.text":
    "Hello {name},\n\n{applicant} asks for a professional identity in the cloud with a signing certificate of {organization}, which you represent.\n\nAuthorise or refuse the request in your console: {console_url}",
  "email.membership_refused.subject":
    "{tenant}: {organization} has refused your request",
  "email.membership_refused.text":
    "Hello {name},\n\nthe representative of {organization} has refused your request for a professional certificate: {reason}{note}\n\nIf you think this is a mistake, speak to the person in charge at {organization}.",
  "email.activation_link.subject":
    "{tenant}: activate your professional identity",
  "email.activation_link.text":
    "Hello {name},\n\n{organization} has authorised your request. To activate your professional identity in the cloud and receive your signing certificate, open this link before {date}:\n{activation_url}\n\nThe activation takes six steps: this e-mail; a code by SMS or e-mail; your DNI's expiry date; your password for identification and signing; the terms of use; a last code. If the link expires, ask your organisation's representative to send a new one.",
  "email.professional_activated.subject":
    "{tenant}: your professional identity is active",
  "email.professional_activated.text":
    "Hello {name},\n\nyour professional identity in the cloud is active. Certificates issued:\n{certificates}\n\nSign in with your DNI, your password and the one-time code we send you. Manage your contact data, password and certificates at {account_url}",
  "email.certificate_revoked.subject":
    "{tenant}: your certificate for {organization} has been revoked",
  "email.certificate_revoked.text":
    "Hello {name},\n\nyour signing certificate for {organization} (serial {serial}) was revoked on {date}: {reason}. It can no longer be used to sign.\n\nIf this was not you or your organisation, contact {tenant} support at once.",
  "email.certificates_reissued.subject":
    "{tenant}: new signing certificates after your password reset",
  "email.certificates_reissued.text":
    "Hello {name},\n\nyour password was reset on {date}. The keys of your signing certificates were locked by the old one, which nobody knows any more: those certificates are revoked, and new ones have been issued under your new password:\n{certificates}\n\nIf you did not reset your password, contact {tenant} support at once.",
} as const;

export type TemplateKey = keyof typeof en;
type Catalogue = Record<TemplateKey, string>;

const it: Catalogue = {
  "sms.otp": "{tenant}: il tuo codice di verifica è {code}. Scade tra {minutes|# minuto|# minuti}. Non comunicarlo a nessuno.",
  "email.otp.subject": "{tenant}: il tuo codice di verifica",
  "email.otp.text":
    "Il tuo codice di verifica è {code}\n\nScade tra {minutes|# minuto|# minuti}. Non comunicarlo a nessuno: {tenant} non te lo chiederà mai per telefono o per e-mail.\n\nSe non hai richiesto un codice, ignora questo messaggio.",
  "email.password_expiry.subject": "{tenant}: la tua password scade tra {days|# giorno|# giorni}",
  "email.password_expiry.text":
    "Gentile {name},\n\nla password del tuo account {tenant} scade il {date}. Accedi e scegline una nuova prima di allora, altrimenti dovrai cambiarla al prossimo accesso.\n\nPer domande non rispondere a questo messaggio: contatta l'assistenza {tenant}.",
  "email.email_confirmation.subject": "{tenant}: conferma il tuo indirizzo e-mail",
  "email.email_confirmation.text":
    "Per confermare questo indirizzo per la tua richiesta di identità {tenant}, apri questo link:\n{confirm_url}\n\noppure inserisci il codice {code} nella pagina della richiesta. Entrambi valgono {minutes|# minuto|# minuti}.\n\nSe non hai chiesto un'identità digitale, ignora questo messaggio.",
  "email.enrolment_submitted.subject": "{tenant}: abbiamo ricevuto la tua richiesta di identità {request}",
  "email.enrolment_submitted.text":
    "Gentile {name},\n\nabbiamo ricevuto la tua richiesta di identità digitale (numero {request}).\n\nCosa succede ora: {next_steps}\n\nPuoi seguire la tua richiesta su {status_url}",
  "email.login_notice.subject": "{tenant}: le tue credenziali sono state usate per accedere",
  "email.login_notice.text":
    "Le tue credenziali {tenant} sono state usate per accedere il {date} da {ip} (livello {level}).\n\nSe non sei stato tu, cambia subito la password e contatta l'assistenza {tenant}.\n\nRicevi questo messaggio perché l'hai chiesto; puoi disattivarlo dal tuo account.",
  "email.password_reset.subject": "{tenant}: la tua password è stata cambiata",
  "email.password_reset.text":
    "La password del tuo account {tenant} è stata reimpostata il {date} e tutte le sessioni sono state chiuse.\n\nSe non sei stato tu, contatta subito l'assistenza {tenant}.",
  "email.recovery_link.subject": "{tenant}: reimposta la password",
  "email.recovery_link.text":
    "Per scegliere una nuova password per il tuo account {tenant}, apri questo link entro {minutes|# minuto|# minuti}:\n{recovery_url}\n\nSe non l'hai chiesto, ignora questo messaggio: la password resta invariata.",
  "email.contact_changed.subject": "{tenant}: i tuoi recapiti sono stati modificati",
  "email.contact_changed.text":
    "Il recapito \"{what}\" del tuo account {tenant} è stato modificato il {date}.\n\nSe non sei stato tu, contatta subito l'assistenza {tenant}.",
  "sms.contact_changed": "{tenant}: il numero di cellulare del tuo account è stato modificato il {date}. Se non sei stato tu, contatta l'assistenza.",
  "email.account_state.subject": "{tenant}: la tua identità è stata {state}",
  "email.account_state.text": "La tua identità digitale {tenant} è stata {state} il {date}.\n\nSe non sei stato tu, contatta subito l'assistenza {tenant}.",
  "email.inactivity_warning.subject": "{tenant}: la tua identità sarà revocata tra {days|# giorno|# giorni}",
  "email.inactivity_warning.text":
    "La tua identità digitale {tenant} non viene usata da molto tempo. Se non accedi entro il {date}, sarà revocata.\n\nPer conservarla basta accedere una volta.",
  "email.enrolment_reminder.subject": "{tenant}: la tua richiesta di identità ti aspetta",
  "email.enrolment_reminder.text":
    "La tua richiesta di identità {tenant} non è completa. Sarà cancellata il {date} se non la completi.\n\nRiprendi da dove avevi lasciato, accedendo con indirizzo e-mail e password: {resume_url}",
  "email.registration_confirmation.subject": "{tenant}: conferma il tuo indirizzo e-mail",
  "email.registration_confirmation.text":
    "Per confermare questo indirizzo per il tuo nuovo account {tenant}, apri questo link:\n{confirm_url}\n\noppure inserisci il codice {code} nella pagina di registrazione. Entrambi valgono {minutes|# minuto|# minuti}.\n\nSe non ti sei registrato, ignora questo messaggio.",
  "email.registration_done.subject": "{tenant}: il tuo codice persona è {codice_persona}",
  "email.registration_done.text":
    "Gentile {name},\n\nil tuo account {tenant} è pronto. Il tuo codice persona è {codice_persona}: accedi con questo e con la password che hai scelto, su {login_url}\n\nL'autenticazione a due fattori è obbligatoria: al primo accesso ti verrà chiesto di attivarla.",
  "email.identity_activated.subject": "{tenant}: la tua identità digitale è attiva",
  "email.identity_activated.text":
    "Gentile {name},\n\nla tua identità è stata verificata ({method}) e la tua identità digitale è attiva. Il tuo codice SPID è {spid_code}.\n\nAccedi con il tuo indirizzo e-mail e la password ovunque trovi il pulsante SPID, e gestisci la tua identità su {account_url}",
  "email.proofing_rejected.subject": "{tenant}: non abbiamo potuto verificare la tua identità",
  "email.proofing_rejected.text":
    "Gentile {name},\n\nnon abbiamo potuto verificare la tua identità per la richiesta {request} ({method}): {reason}\n\nCosa puoi fare: {next_steps}\n\nLa tua richiesta resta aperta su {account_url}",
  "email.membership_requested.subject":
    "{tenant}: la tua richiesta di identità professionale presso {organization}",
  "email.membership_requested.text":
    "Gentile {name},\n\nabbiamo ricevuto la tua richiesta di identità professionale nel cloud con un certificato di firma di {organization}.\n\nCosa succede ora: un rappresentante di {organization} autorizza (o rifiuta) la richiesta; in entrambi i casi ti scriviamo. Una volta autorizzata riceverai il link per attivare la tua identità in sei brevi passi.",
  "email.membership_pending.subject":
    "{tenant}: {applicant} chiede un certificato di {organization}",
  "email.membership_pending.text":
    "Gentile {name},\n\n{applicant} chiede un'identità professionale nel cloud con un certificato di firma di {organization}, che rappresenti.\n\nAutorizza o rifiuta la richiesta dalla tua console: {console_url}",
  "email.membership_refused.subject":
    "{tenant}: {organization} ha rifiutato la tua richiesta",
  "email.membership_refused.text":
    "Gentile {name},\n\nil rappresentante di {organization} ha rifiutato la tua richiesta di certificato professionale: {reason}{note}\n\nSe pensi che sia un errore, rivolgiti al responsabile di {organization}.",
  "email.activation_link.subject":
    "{tenant}: attiva la tua identità professionale",
  "email.activation_link.text":
    "Gentile {name},\n\n{organization} ha autorizzato la tua richiesta. Per attivare la tua identità professionale nel cloud e ricevere il certificato di firma, apri questo link entro il {date}:\n{activation_url}\n\nL'attivazione richiede sei passi: questa e-mail; un codice via SMS o e-mail; la data di scadenza del tuo DNI; la password per identificazione e firma; le condizioni d'uso; un ultimo codice. Se il link scade, chiedi al rappresentante della tua organizzazione di inviarne uno nuovo.",
  "email.professional_activated.subject":
    "{tenant}: la tua identità professionale è attiva",
  "email.professional_activated.text":
    "Gentile {name},\n\nla tua identità professionale nel cloud è attiva. Certificati emessi:\n{certificates}\n\nAccedi con il tuo DNI, la password e il codice monouso che ti inviamo. Gestisci recapiti, password e certificati su {account_url}",
  "email.certificate_revoked.subject":
    "{tenant}: il tuo certificato per {organization} è stato revocato",
  "email.certificate_revoked.text":
    "Gentile {name},\n\nil tuo certificato di firma per {organization} (seriale {serial}) è stato revocato il {date}: {reason}. Non può più essere usato per firmare.\n\nSe non sei stato tu o la tua organizzazione, contatta subito l'assistenza {tenant}.",
  "email.certificates_reissued.subject":
    "{tenant}: nuovi certificati di firma dopo il ripristino della password",
  "email.certificates_reissued.text":
    "Gentile {name},\n\nla tua password è stata ripristinata il {date}. Le chiavi dei tuoi certificati di firma erano protette dalla vecchia, che nessuno conosce più: quei certificati sono revocati e ne sono stati emessi di nuovi, protetti dalla nuova password:\n{certificates}\n\nSe non hai ripristinato tu la password, contatta subito l'assistenza {tenant}.",
};

const es: Catalogue = {
  "sms.otp": "{tenant}: tu código de verificación es {code}. Caduca en {minutes|# minuto|# minutos}. No lo compartas con nadie.",
  "email.otp.subject": "{tenant}: tu código de verificación",
  "email.otp.text":
    "Tu código de verificación es {code}\n\nCaduca en {minutes|# minuto|# minutos}. No lo compartas con nadie: {tenant} nunca te lo pedirá por teléfono ni por correo.\n\nSi no has solicitado ningún código, ignora este mensaje.",
  "email.password_expiry.subject": "{tenant}: tu contraseña caduca en {days|# día|# días}",
  "email.password_expiry.text":
    "Hola, {name}:\n\nla contraseña de tu cuenta de {tenant} caduca el {date}. Accede y elige una nueva antes de esa fecha; si no, tendrás que cambiarla la próxima vez que accedas.\n\nSi tienes dudas, no respondas a este mensaje: ponte en contacto con el soporte de {tenant}.",
  "email.email_confirmation.subject": "{tenant}: confirma tu dirección de correo",
  "email.email_confirmation.text":
    "Para confirmar esta dirección en tu solicitud de identidad de {tenant}, abre este enlace:\n{confirm_url}\n\no introduce el código {code} en la página de la solicitud. Ambos son válidos durante {minutes|# minuto|# minutos}.\n\nSi no has solicitado una identidad digital, ignora este mensaje.",
  "email.enrolment_submitted.subject": "{tenant}: hemos recibido tu solicitud de identidad {request}",
  "email.enrolment_submitted.text":
    "Hola, {name}:\n\nhemos recibido tu solicitud de identidad digital (número {request}).\n\nQué ocurre ahora: {next_steps}\n\nPuedes seguir tu solicitud en {status_url}",
  "email.login_notice.subject": "{tenant}: se han usado tus credenciales para acceder",
  "email.login_notice.text":
    "Tus credenciales de {tenant} se usaron para acceder el {date} desde {ip} (nivel {level}).\n\nSi no has sido tú, cambia la contraseña de inmediato y contacta con el soporte de {tenant}.\n\nRecibes este mensaje porque lo pediste; puedes desactivarlo en tu cuenta.",
  "email.password_reset.subject": "{tenant}: tu contraseña ha cambiado",
  "email.password_reset.text":
    "La contraseña de tu cuenta de {tenant} se restableció el {date} y se cerraron todas las sesiones.\n\nSi no has sido tú, contacta de inmediato con el soporte de {tenant}.",
  "email.recovery_link.subject": "{tenant}: restablece tu contraseña",
  "email.recovery_link.text":
    "Para elegir una contraseña nueva para tu cuenta de {tenant}, abre este enlace en los próximos {minutes|# minuto|# minutos}:\n{recovery_url}\n\nSi no lo has pedido, ignora este mensaje: tu contraseña no cambia.",
  "email.contact_changed.subject": "{tenant}: tus datos de contacto han cambiado",
  "email.contact_changed.text":
    "El dato de contacto \"{what}\" de tu cuenta de {tenant} se modificó el {date}.\n\nSi no has sido tú, contacta de inmediato con el soporte de {tenant}.",
  "sms.contact_changed": "{tenant}: el móvil de tu cuenta se modificó el {date}. Si no has sido tú, contacta con soporte.",
  "email.account_state.subject": "{tenant}: tu identidad ha sido {state}",
  "email.account_state.text": "Tu identidad digital de {tenant} ha sido {state} el {date}.\n\nSi no has sido tú, contacta de inmediato con el soporte de {tenant}.",
  "email.inactivity_warning.subject": "{tenant}: tu identidad se revocará dentro de {days|# día|# días}",
  "email.inactivity_warning.text":
    "Tu identidad digital de {tenant} lleva mucho tiempo sin usarse. Si no accedes antes del {date}, se revocará.\n\nPara conservarla, basta con acceder una vez.",
  "email.enrolment_reminder.subject": "{tenant}: tu solicitud de identidad te espera",
  "email.enrolment_reminder.text":
    "Tu solicitud de identidad de {tenant} no está completa. Se eliminará el {date} si no la completas.\n\nContinúa donde lo dejaste, accediendo con tu correo y contraseña: {resume_url}",
  "email.registration_confirmation.subject": "{tenant}: confirma tu dirección de correo",
  "email.registration_confirmation.text":
    "Para confirmar esta dirección para tu nueva cuenta de {tenant}, abre este enlace:\n{confirm_url}\n\no introduce el código {code} en la página de registro. Ambos valen {minutes|# minuto|# minutos}.\n\nSi no te has registrado, ignora este mensaje.",
  "email.registration_done.subject": "{tenant}: tu codice persona es {codice_persona}",
  "email.registration_done.text":
    "Hola, {name}:\n\ntu cuenta de {tenant} está lista. Tu codice persona es {codice_persona}: accede con él y la contraseña que elegiste en {login_url}\n\nLa autenticación en dos pasos es obligatoria: en tu primer acceso se te pedirá activarla.",
  "email.identity_activated.subject": "{tenant}: tu identidad digital está activa",
  "email.identity_activated.text":
    "Hola, {name}:\n\ntu identidad ha sido verificada ({method}) y tu identidad digital está activa. Tu código SPID es {spid_code}.\n\nAccede con tu dirección de correo y tu contraseña donde veas el botón SPID, y gestiona tu identidad en {account_url}",
  "email.proofing_rejected.subject": "{tenant}: no hemos podido verificar tu identidad",
  "email.proofing_rejected.text":
    "Hola, {name}:\n\nno hemos podido verificar tu identidad para la solicitud {request} ({method}): {reason}\n\nQué puedes hacer: {next_steps}\n\nTu solicitud sigue abierta en {account_url}",
  "email.membership_requested.subject":
    "{tenant}: tu solicitud de identidad profesional en {organization}",
  "email.membership_requested.text":
    "Hola, {name}:\n\nhemos recibido tu solicitud de identidad profesional en la nube con un certificado de firma de {organization}.\n\nQué ocurre ahora: un representante de {organization} autoriza (o rechaza) la solicitud; en ambos casos te escribimos. Una vez autorizada recibirás el enlace para activar tu identidad en seis pasos breves.",
  "email.membership_pending.subject":
    "{tenant}: {applicant} solicita un certificado de {organization}",
  "email.membership_pending.text":
    "Hola, {name}:\n\n{applicant} solicita una identidad profesional en la nube con un certificado de firma de {organization}, entidad que representas.\n\nAutoriza o rechaza la solicitud en tu consola: {console_url}",
  "email.membership_refused.subject":
    "{tenant}: {organization} ha rechazado tu solicitud",
  "email.membership_refused.text":
    "Hola, {name}:\n\nel representante de {organization} ha rechazado tu solicitud de certificado profesional: {reason}{note}\n\nSi crees que es un error, habla con el responsable de {organization}.",
  "email.activation_link.subject":
    "{tenant}: activa tu identidad profesional",
  "email.activation_link.text":
    "Hola, {name}:\n\n{organization} ha autorizado tu solicitud. Para emitir y activar tu certificado profesional en la nube, abre este enlace antes del {date}:\n{activation_url}\n\nLa activación consta de seis pasos: este correo; un código por SMS o correo; la fecha de caducidad de tu DNI; la contraseña para identificarte y firmar; los términos y condiciones de uso; un último código. Si el enlace caduca, pide al representante de tu entidad que te envíe uno nuevo.",
  "email.professional_activated.subject":
    "{tenant}: tu identidad profesional está activa",
  "email.professional_activated.text":
    "Hola, {name}:\n\ntu identidad profesional en la nube está activa. Certificados emitidos:\n{certificates}\n\nIdentifícate con tu DNI, tu contraseña y el código de un solo uso que te enviamos. Gestiona tus datos de contacto, tu contraseña y tus certificados en {account_url}",
  "email.certificate_revoked.subject":
    "{tenant}: se ha revocado tu certificado de {organization}",
  "email.certificate_revoked.text":
    "Hola, {name}:\n\ntu certificado de firma de {organization} (número de serie {serial}) se revocó el {date}: {reason}. Ya no se puede usar para firmar.\n\nSi no has sido tú ni tu entidad, contacta de inmediato con el soporte de {tenant}.",
  "email.certificates_reissued.subject":
    "{tenant}: nuevos certificados de firma tras restablecer tu contraseña",
  "email.certificates_reissued.text":
    "Hola, {name}:\n\ntu contraseña se restableció el {date}. Las claves de tus certificados de firma estaban protegidas por la anterior, que ya nadie conoce: esos certificados se han revocado y se han emitido otros nuevos protegidos por la nueva contraseña:\n{certificates}\n\nSi no has restablecido tú la contraseña, contacta de inmediato con el soporte de {tenant}.",
};

const catalogues: Record<Locale, Catalogue> = { en, it, es };

export type Channel = "email" | "sms";
export type Template =
  | "otp"
  | "password_expiry"
  | "email_confirmation"
  | "enrolment_submitted"
  | "enrolment_reminder"
  | "login_notice"
  | "password_reset"
  | "recovery_link"
  | "contact_changed"
  | "account_state"
  | "inactivity_warning"
  | "registration_confirmation"
  | "registration_done"
  | "identity_activated"
  | "proofing_rejected"
  | "membership_requested"
  | "membership_pending"
  | "membership_refused"
  | "activation_link"
  | "professional_activated"
  | "certificate_revoked"
  | "certificates_reissued";

export interface RenderedMessage {
  subject?: string;
  text: string;
  html?: string;
}

/**
 * Renders a message. Parameters are plain text; in the HTML part they are escaped, and only those
 * whose name ends in `url` (which Tessera itself builds) become links: a name or other value
 * typed by a user never turns into a link in an official message.
 */
export function renderMessage(
  tenant: Tenant,
  channel: Channel,
  template: Template,
  locale: Locale,
  params: Record<string, string | number>,
): RenderedMessage {
  const all = { tenant: tenant.displayName, ...params };
  const source = (key: TemplateKey) => tenant.policy.messages[locale]?.[key] ?? catalogues[locale][key];
  if (channel === "sms") return { text: interpolate(source(`sms.${template}` as TemplateKey), all, locale) };
  const body = source(`email.${template}.text` as TemplateKey);
  return {
    subject: interpolate(source(`email.${template}.subject` as TemplateKey), all, locale),
    text: interpolate(body, all, locale),
    html: htmlPart(body, all, tenant.displayName, locale),
  };
}

/** The HTML part: the template's paragraphs, escaped, with the parameters filled in. */
function htmlPart(template: string, params: Record<string, string | number>, title: string, locale: Locale): string {
  const value = (v: string, name: string) =>
    name.endsWith("url") && /^https?:\/\//.test(v) ? `<a href="${escapeHtml(v)}">${escapeHtml(v)}</a>` : escapeHtml(v);
  const paragraphs = template
    .split(/\n{2,}/)
    .map((p) => `<p>${interpolate(escapeHtml(p), params, locale, value).replace(/\n/g, "<br>")}</p>`)
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>\n${paragraphs}\n</body></html>`;
}
