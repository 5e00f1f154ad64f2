/// The banner's built-in texts in every visitor locale; a site's `[consent.texts.<locale>]` or
/// the console editor replaces any of them.
extension ConsentTexts {
    typealias C = CategoryText

    package static let builtIn: [String: ConsentTexts] = [
        "en": ConsentTexts(
            title: "Cookies and privacy", body: "We use cookies and similar storage. Necessary ones keep the site working; with your consent we also use the others listed below. You can change your choice at any time.",
            acceptAll: "Accept all", rejectAll: "Reject all", customize: "Customize", save: "Save choice", privacyLink: "Privacy policy",
            gpcNotice: "Your browser asked us not to sell or share your data (Global Privacy Control), so marketing stays off.",
            placeholder: "This content needs your consent to {category}.", loadButton: "Load content", settings: "Cookie settings",
            alwaysOn: "Always on", provider: "Provider", purpose: "Purpose", storage: "Storage", retention: "Kept for",
            categories: ["necessary": C(name: "Necessary", description: "Needed for the site and for remembering your choice."),
                         "functional": C(name: "Functional", description: "Live chat and features that remember you."),
                         "analytics": C(name: "Analytics", description: "Helps us understand how the site is used."),
                         "marketing": C(name: "Marketing", description: "Ads and content from other sites, measured across sites.")]),
        "de": ConsentTexts(
            title: "Cookies und Datenschutz", body: "Wir verwenden Cookies und ähnliche Speicher. Notwendige halten die Website am Laufen; mit Ihrer Einwilligung nutzen wir auch die unten genannten. Sie können Ihre Wahl jederzeit ändern.",
            acceptAll: "Alle akzeptieren", rejectAll: "Alle ablehnen", customize: "Anpassen", save: "Auswahl speichern", privacyLink: "Datenschutzerklärung",
            gpcNotice: "Ihr Browser bittet uns, Ihre Daten nicht zu verkaufen oder weiterzugeben (Global Privacy Control); Marketing bleibt daher aus.",
            placeholder: "Dieser Inhalt braucht Ihre Einwilligung für {category}.", loadButton: "Inhalt laden", settings: "Cookie-Einstellungen",
            alwaysOn: "Immer aktiv", provider: "Anbieter", purpose: "Zweck", storage: "Speicher", retention: "Speicherdauer",
            categories: ["necessary": C(name: "Notwendig", description: "Für die Website und um Ihre Wahl zu speichern."),
                         "functional": C(name: "Funktional", description: "Live-Chat und Funktionen, die sich an Sie erinnern."),
                         "analytics": C(name: "Statistik", description: "Hilft uns zu verstehen, wie die Website genutzt wird."),
                         "marketing": C(name: "Marketing", description: "Werbung und Inhalte anderer Websites, seitenübergreifend gemessen.")]),
        "fr": ConsentTexts(
            title: "Cookies et confidentialité", body: "Nous utilisons des cookies et des stockages similaires. Les nécessaires font fonctionner le site ; avec votre accord, nous utilisons aussi ceux listés ci-dessous. Vous pouvez changer d’avis à tout moment.",
            acceptAll: "Tout accepter", rejectAll: "Tout refuser", customize: "Personnaliser", save: "Enregistrer", privacyLink: "Politique de confidentialité",
            gpcNotice: "Votre navigateur nous demande de ne pas vendre ni partager vos données (Global Privacy Control) : le marketing reste désactivé.",
            placeholder: "Ce contenu nécessite votre accord pour {category}.", loadButton: "Charger le contenu", settings: "Paramètres des cookies",
            alwaysOn: "Toujours actif", provider: "Fournisseur", purpose: "Finalité", storage: "Stockage", retention: "Conservation",
            categories: ["necessary": C(name: "Nécessaires", description: "Indispensables au site et à la mémorisation de votre choix."),
                         "functional": C(name: "Fonctionnels", description: "Chat en direct et fonctions qui se souviennent de vous."),
                         "analytics": C(name: "Statistiques", description: "Nous aident à comprendre l’utilisation du site."),
                         "marketing": C(name: "Marketing", description: "Publicités et contenus d’autres sites, mesurés entre sites.")]),
        "es": ConsentTexts(
            title: "Cookies y privacidad", body: "Usamos cookies y almacenamiento similar. Las necesarias mantienen el sitio en marcha; con su consentimiento usamos también las indicadas abajo. Puede cambiar su elección en cualquier momento.",
            acceptAll: "Aceptar todo", rejectAll: "Rechazar todo", customize: "Personalizar", save: "Guardar elección", privacyLink: "Política de privacidad",
            gpcNotice: "Su navegador nos pidió no vender ni compartir sus datos (Global Privacy Control), así que el marketing queda desactivado.",
            placeholder: "Este contenido necesita su consentimiento para {category}.", loadButton: "Cargar contenido", settings: "Ajustes de cookies",
            alwaysOn: "Siempre activo", provider: "Proveedor", purpose: "Finalidad", storage: "Almacenamiento", retention: "Duración",
            categories: ["necessary": C(name: "Necesarias", description: "Imprescindibles para el sitio y para recordar su elección."),
                         "functional": C(name: "Funcionales", description: "Chat en vivo y funciones que le recuerdan."),
                         "analytics": C(name: "Analíticas", description: "Nos ayudan a entender cómo se usa el sitio."),
                         "marketing": C(name: "Marketing", description: "Anuncios y contenido de otros sitios, medidos entre sitios.")]),
        "it": ConsentTexts(
            title: "Cookie e privacy", body: "Usiamo cookie e archiviazione simile. Quelli necessari fanno funzionare il sito; con il tuo consenso usiamo anche quelli elencati sotto. Puoi cambiare la tua scelta in qualsiasi momento.",
            acceptAll: "Accetta tutti", rejectAll: "Rifiuta tutti", customize: "Personalizza", save: "Salva scelta", privacyLink: "Informativa privacy",
            gpcNotice: "Il tuo browser ci ha chiesto di non vendere né condividere i tuoi dati (Global Privacy Control), quindi il marketing resta disattivato.",
            placeholder: "Questo contenuto richiede il tuo consenso per {category}.", loadButton: "Carica contenuto", settings: "Impostazioni cookie",
            alwaysOn: "Sempre attivi", provider: "Fornitore", purpose: "Finalità", storage: "Archiviazione", retention: "Durata",
            categories: ["necessary": C(name: "Necessari", description: "Servono al sito e a ricordare la tua scelta."),
                         "functional": C(name: "Funzionali", description: "Chat dal vivo e funzioni che si ricordano di te."),
                         "analytics": C(name: "Statistiche", description: "Ci aiutano a capire come viene usato il sito."),
                         "marketing": C(name: "Marketing", description: "Annunci e contenuti di altri siti, misurati tra siti.")]),
        "nl": ConsentTexts(
            title: "Cookies en privacy", body: "We gebruiken cookies en vergelijkbare opslag. Noodzakelijke houden de site werkend; met uw toestemming gebruiken we ook de hieronder genoemde. U kunt uw keuze altijd wijzigen.",
            acceptAll: "Alles accepteren", rejectAll: "Alles weigeren", customize: "Aanpassen", save: "Keuze opslaan", privacyLink: "Privacybeleid",
            gpcNotice: "Uw browser vroeg ons uw gegevens niet te verkopen of te delen (Global Privacy Control), dus marketing blijft uit.",
            placeholder: "Deze inhoud heeft uw toestemming nodig voor {category}.", loadButton: "Inhoud laden", settings: "Cookie-instellingen",
            alwaysOn: "Altijd aan", provider: "Aanbieder", purpose: "Doel", storage: "Opslag", retention: "Bewaard",
            categories: ["necessary": C(name: "Noodzakelijk", description: "Nodig voor de site en om uw keuze te onthouden."),
                         "functional": C(name: "Functioneel", description: "Livechat en functies die u onthouden."),
                         "analytics": C(name: "Statistiek", description: "Helpt ons begrijpen hoe de site wordt gebruikt."),
                         "marketing": C(name: "Marketing", description: "Advertenties en inhoud van andere sites, over sites heen gemeten.")]),
    ]
}
