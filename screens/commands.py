"""The app's own commands in the palette, beside Textual's (theme, keys, quit)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class CounterCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app = self.app
        commands = [
            ("Nouvelle recherche", "Effacer la recherche et revenir à la saisie", app.action_new_search),
            ("Nouvelle famille", "Créer le foyer d'une famille nouvelle dans la commune (F6)",
             partial(app.run_on_search, "new_family")),
            ("Inscriptions", "Retrouver ou annuler une inscription (F9)", partial(app.run_on_search, "registrations")),
            ("Envois en attente", "Suivre les envois aux systèmes de la mairie (F10, superviseur)",
             partial(app.run_on_search, "outbox")),
            ("Statistiques", "Visites, attente, motifs, inscriptions, organismes (Ctrl+T ; agent : les vôtres)",
             partial(app.run_on_search, "statistics")),
            ("Verrouiller le poste", "Cacher l'écran jusqu'au code personnel (Ctrl+L)", app.action_lock),
            ("Journal d'audit", "Qui a consulté quoi, et pourquoi (superviseur)", app.action_audit),
            ("Thème console (16 couleurs)", "Couleurs de la console Linux", partial(setattr, app, "theme", "ansi-dark")),
            ("Thème standard", "Couleurs par défaut", partial(setattr, app, "theme", "textual-dark")),
        ]
        if app.scenario is not None:
            commands.append(("Scénario de formation", "La situation et l'objectif du scénario (F1)",
                             app.action_scenario_help))
        session = app.session
        if session is not None and session.link_switch:  # training's bus only
            if session.offline_since is not None:
                commands.append(("Liaison avec la mairie : rétablir", "Formation : le bus retrouve le réseau "
                                 "et envoie à la mairie ce qui a été saisi à bord", app.action_switch_link))
            else:
                commands.append(("Liaison avec la mairie : couper", "Formation : le bus perd le réseau "
                                 "et travaille sur sa copie", app.action_switch_link))
        if not app.ready:
            commands.append(("Réessayer l'ouverture de la base", "Reconnecter la base de données", app.action_retry_services))
        return commands

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
